"""The year's meetings as an inline SVG picture: one row per meeting on a twelve-month axis.

Held meetings are solid, scheduled ones lighter, planned ones outlined; a tentative date or
venue is dashed. A date known only to the month or season spans all of it, as the source
said no more. The picture is plain SVG with no scripts, so it prints as it shows.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from html import escape

from cmsbot.audit.report.model import MeetingDate
from cmsbot.wording import day

WIDTH, LEFT, RIGHT, TOP, ROW = 760, 12, 12, 42, 36
_FILL = {"held": "#1f4e79", "scheduled": "#7aa6d6", "rescheduled": "#7aa6d6"}
_LABEL_CHARS = 100
_CHAR_WIDTH = 5.6  # a rough average at 11px, enough to keep labels on the page


def _x(value: date, year: int) -> float:
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    offset = min(max((value - first).days, 0), days)
    return LEFT + (WIDTH - LEFT - RIGHT) * offset / days


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _label(meeting: MeetingDate) -> str:
    """The title (shortened if need be), then the date and place in full."""
    when = f"{meeting.when}" + (f", {meeting.venue}" if meeting.venue else "")
    return f"{_clip(meeting.title, max(_LABEL_CHARS - len(when) - 3, 24))} — {when}"


def _place(label: str, left: float, right: float) -> tuple[str, float]:
    """Anchor the label at the bar's start, or its end when it would run off the page."""
    width = len(label) * _CHAR_WIDTH
    if left + width <= WIDTH - RIGHT:
        return "start", left
    if right - width >= LEFT:
        return "end", right
    return "start", LEFT


def timeline_svg(meetings: list[MeetingDate], year: int, as_at: date | None) -> str:
    """An SVG element (to inline in HTML) picturing `meetings` over `year`."""
    height = TOP + ROW * max(len(meetings), 1) + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="timeline-title timeline-desc" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        f'<title id="timeline-title">Meetings in {year}</title>',
        f'<desc id="timeline-desc">{len(meetings)} meetings and workshops dated in {year}, '
        "on a January-to-December axis.</desc>",
    ]
    for month in range(1, 13):
        x = _x(date(year, month, 1), year)
        parts.append(f'<line x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{height - 30}" '
                     'stroke="#d9d9d9" stroke-width="1"/>')
        parts.append(f'<text x="{x + 3:.1f}" y="14" fill="#555">'
                     f"{calendar.month_abbr[month]}</text>")
    if as_at is not None and as_at.year == year:
        x = _x(as_at, year)
        parts.append(f'<line x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{height - 30}" '
                     'stroke="#b03a2e" stroke-width="1.5" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x + 3:.1f}" y="30" fill="#b03a2e">as at {escape(day(as_at))}'
                     "</text>")
    if not meetings:
        parts.append(f'<text x="{LEFT}" y="{TOP + 16}" fill="#555">No meetings are dated '
                     f"in {year}.</text>")
    for row, meeting in enumerate(meetings):
        y = TOP + ROW * row
        start = meeting.when.start or meeting.when.end
        x1, x2 = _x(start, year), _x(meeting.when.end + timedelta(days=1), year)
        width = max(x2 - x1, 5.0)
        fill = _FILL.get(meeting.status, "#ffffff")
        dash = ' stroke-dasharray="3 2"' if meeting.tentative else ""
        parts.append(f'<rect x="{x1:.1f}" y="{y + 16}" width="{width:.1f}" height="9" rx="2" '
                     f'fill="{fill}" stroke="#1f4e79" stroke-width="1"{dash}>'
                     f"<title>{escape(meeting.title)}: {escape(str(meeting.when))} "
                     f"({escape(meeting.status)})</title></rect>")
        label = _label(meeting)
        anchor, x = _place(label, x1, x1 + width)
        parts.append(f'<text x="{x:.1f}" y="{y + 12}" text-anchor="{anchor}" fill="#222" '
                     'stroke="#fff" stroke-width="3" paint-order="stroke">'
                     f"{escape(label)}</text>")
    legend_y = height - 12
    legend = (("held", "#1f4e79", ""), ("scheduled", "#7aa6d6", ""),
              ("planned", "#ffffff", ""), ("tentative", "#ffffff", ' stroke-dasharray="3 2"'))
    for number, (words, fill, dash) in enumerate(legend):
        x = LEFT + number * 110
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="18" height="9" rx="2" '
                     f'fill="{fill}" stroke="#1f4e79"{dash}/>')
        parts.append(f'<text x="{x + 24}" y="{legend_y}" fill="#333">{words}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
