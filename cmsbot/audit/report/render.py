"""The report as Markdown, or as one standalone, print-friendly HTML page (no scripts, no
external files: the styles and the timeline picture are inline)."""

from __future__ import annotations

from html import escape

from cmsbot.audit.report.model import ItemParagraph, Report
from cmsbot.audit.report.prose import capital
from cmsbot.audit.report.timeline import timeline_svg
from cmsbot.lag import lag_note
from cmsbot.wording import count as count_of

_ACTIONS_LEAD = "The following are requested, or still open:"


def _letter(number: int) -> str:
    return chr(ord("a") + number) if number < 26 else f"a{number}"


def _body(item: ItemParagraph) -> list[str]:
    """The item's paragraph after its title, as plain sentences."""
    sentences = [item.status, *item.told, *item.late]
    if item.next:
        sentences.append(item.next)
    if item.sources:
        sentences.append(f"Sources: {item.sources}.")
    return sentences


def _with(item: ItemParagraph) -> str:
    return f" (with {', '.join(item.partners)})" if item.partners else ""


def _summary(report: Report) -> str:
    count = len(report.items)
    open_count = sum(item.open for item in report.items)
    return (f"It is written from the events recorded in the cmsbot log and covers "
            f"{count_of(count, 'item')}; {open_count} {'is' if open_count == 1 else 'are'} "
            "still open and listed under “Action requested”. Each paragraph states the "
            "item's status and what happened, each date as the source gave it, and cites "
            "its sources.")


def _provenance(report: Report) -> tuple[str, str]:
    """What the report was written from, and the command that checks the log still holds
    it."""
    return (f"Written from the cmsbot log on {report.written:%Y-%m-%d %H:%M} UTC: "
            f"{count_of(report.events, 'log entry', 'log entries')}, chain head {report.head}. "
            "Check that the log still "
            "holds what this report was written from with",
            f"cmsbot audit verify --head {report.head}")


def _lag(report: Report) -> list[str]:
    note = lag_note(report.views_behind)
    return [] if note is None else [f"Note: {note}"]


def _subtitle(report: Report) -> str:
    of = f" for {report.document}" if report.document else ""
    return f"The state of activities {report.when}, prepared from the log{of}."


def markdown(report: Report) -> str:
    lines = [f"# {report.title}", "", f"*{_subtitle(report)}*",
             "", "## Summary", "", _summary(report), ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        for item in section.items:
            lines += [f"**{item.number}. {item.title}**{_with(item)}. "
                      + " ".join(_body(item)), ""]
        if section.actions:
            lines += _markdown_actions(report)
    lines += [f"## Meetings in {report.year}", ""]
    if report.meetings:
        lines += ["| When | Meeting | Where | Status |", "| --- | --- | --- | --- |"]
        lines += [f"| {m.when} | {m.title} | {m.venue or ''} | "
                  f"{m.status}{' (tentative)' if m.tentative else ''} |"
                  for m in report.meetings]
    else:
        lines.append(f"No meetings are dated in {report.year}.")
    words, command = _provenance(report)
    lines += ["", "---", "", f"{words} `{command}`.", ""]
    lines += [line for note in _lag(report) for line in (note, "")]
    return "\n".join(lines)


def _markdown_actions(report: Report) -> list[str]:
    if not report.actions:
        return ["Nothing is open.", ""]
    lines = [_ACTIONS_LEAD, ""]
    last = len(report.actions) - 1
    lines += [f"- **{_letter(n)}.** {capital(text)}{'.' if n == last else ';'}"
              for n, text in enumerate(report.actions)]
    return [*lines, ""]


_CSS = """
@page { size: A4; margin: 2cm 2.2cm; }
body { font-family: Georgia, "Times New Roman", serif; font-size: 11pt; line-height: 1.45;
       color: #111; max-width: 48em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 20pt; margin-bottom: 0.2em; }
h2 { font-size: 13pt; margin-top: 1.6em; border-bottom: 1px solid #999;
     break-after: avoid; page-break-after: avoid; }
.subtitle { font-style: italic; color: #333; margin-top: 0; }
p.item { text-align: justify; orphans: 3; widows: 3; break-inside: avoid;
         page-break-inside: avoid; }
p.item .num { font-weight: bold; }
.open { border-left: 3px solid #b03a2e; padding-left: 0.6em; }
.sources { color: #444; font-size: 0.95em; }
ol.actions { list-style-type: lower-alpha; }
figure { margin: 1em 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 0.9em; color: #333; }
footer { margin-top: 2em; border-top: 1px solid #999; font-size: 0.85em; color: #333; }
code { font-size: 0.85em; word-break: break-all; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
""".strip()


def html(report: Report) -> str:
    """A standalone page: inline CSS and SVG, no scripts."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{escape(report.title)} — {escape(report.when)}</title>",
           f"<style>\n{_CSS}\n</style>", "</head>", "<body>", "<header>",
           f"<h1>{escape(report.title)}</h1>",
           f'<p class="subtitle">{escape(_subtitle(report))}</p>', "</header>", "<main>",
           "<h2>Summary</h2>", f"<p>{escape(_summary(report))}</p>"]
    for section in report.sections:
        out.append(f'<section id="{section.key}">')
        out.append(f"<h2>{escape(section.title)}</h2>")
        for item in section.items:
            out.append(_html_item(item))
        if section.actions:
            out += _html_actions(report)
        out.append("</section>")
    out += [f'<section id="meetings"><h2>Meetings in {report.year}</h2>', "<figure>",
            timeline_svg(report.meetings, report.year, report.as_at),
            f"<figcaption>Meetings and workshops dated in {report.year}, {escape(report.when)}"
            ". Solid: held; light: scheduled; outlined: planned; dashed: tentative.</figcaption>",
            "</figure>", "</section>", "</main>",
            _html_footer(report), "</body>", "</html>", ""]
    return "\n".join(out)


def _html_footer(report: Report) -> str:
    words, command = _provenance(report)
    notes = "".join(f"<p>{escape(note)}</p>" for note in _lag(report))
    return (f"<footer><p>{escape(words)} <code>{escape(command)}</code>.</p>{notes}"
            "</footer>")


def _html_item(item: ItemParagraph) -> str:
    sentences = _body(item)
    sources = sentences.pop() if item.sources else ""
    classes = "item open" if item.open else "item"
    text = (f'<p class="{classes}" id="item-{escape(item.state.key)}">'
            f'<span class="num">{item.number}.</span> <strong>{escape(item.title)}</strong>'
            f"{escape(_with(item))}. {escape(' '.join(sentences))}")
    if sources:
        text += f' <span class="sources">{escape(sources)}</span>'
    return text + "</p>"


def _html_actions(report: Report) -> list[str]:
    if not report.actions:
        return ["<p>Nothing is open.</p>"]
    items = [f"<li>{escape(capital(text))}</li>" for text in report.actions]
    return [f"<p>{escape(_ACTIONS_LEAD)}</p>", '<ol class="actions">', *items, "</ol>"]


def render(report: Report, fmt: str) -> str:
    if fmt == "html":
        return html(report)
    return markdown(report)

