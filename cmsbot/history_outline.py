"""A history file's `report:` part: the outline of the report it records, checked.

    report:
      title: Synergies and Partnerships
      sections:
        - title: Cooperation with other conventions
          items: [iwc-jwp, ramsar-jwp]        # and/or
          paragraphs: [3, 4, 5]

Each problem is said against the line of the mapping it is about, like every other
problem of a history file. Whether the items a section names exist is the import's to
check (`cmsbot.app.outlining`): an item may have been recorded by an earlier file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cmsbot.history_parsing import LinedMapping
from domain.errors import InvalidFieldError
from domain.limits import MAX_LIST, shown, within_length
from domain.outlines import Outline, OutlineSection
from domain.text import check_text

Fail = Callable[[Any, str], None]  # (the mapping a problem is about, the reason)

_FIELDS = {"title", "sections"}
_SECTION_FIELDS = {"title", "items", "paragraphs"}


@dataclass(frozen=True)
class SectionEntry:
    at: LinedMapping
    section: OutlineSection


@dataclass(frozen=True)
class OutlineEntry:
    """A checked `report:` part: its title and sections, each with where it is written."""

    at: LinedMapping
    title: str
    sections: tuple[SectionEntry, ...]

    def outline(self, document: str) -> Outline:
        return Outline(document, self.title, tuple(s.section for s in self.sections))

    def items(self) -> list[tuple[SectionEntry, str]]:
        """Every item key a section names, with the section."""
        return [(entry, key) for entry in self.sections for key in entry.section.items]


def read_outline(data: LinedMapping, fail: Fail) -> OutlineEntry | None:
    """The file's `report:` part checked (None when it has none, or it cannot be read);
    each problem is passed to `fail`. The title defaults to the file's own `title:`."""
    if "report" not in data:
        return None
    part = data["report"]
    if not isinstance(part, LinedMapping):
        fail(data, "'report' must be a mapping with 'title' and 'sections'")
        return None
    unknown = sorted(set(part) - _FIELDS)
    if unknown:
        fail(part, f"'report' has no field {', '.join(shown(n, 40) for n in unknown[:5])}; "
                   "it has title and sections")
    title = _text(part.get("title"), part, "title", fail) or _text(
        data.get("title"), data, "title", fail)
    if title is None:
        fail(part, "'report' needs a 'title' (or the file one)")
    raw = part.get("sections")
    if not isinstance(raw, list) or not raw:
        fail(part, "'report' needs 'sections': a list of sections, each with a title")
        return None
    sections = []
    for value in raw:
        if not isinstance(value, LinedMapping):
            fail(part, f"every section of 'report' must be a mapping, not {shown(value)}")
            continue
        section = _section(value, fail)
        if section is not None:
            sections.append(SectionEntry(value, section))
    _check_once(sections, fail)
    if title is None or len(sections) != len(raw):
        return None
    return OutlineEntry(part, title, tuple(sections))


def _section(data: LinedMapping, fail: Fail) -> OutlineSection | None:
    unknown = sorted(set(data) - _SECTION_FIELDS)
    if unknown:
        fail(data, f"a report section has no field "
                   f"{', '.join(shown(n, 40) for n in unknown[:5])}; it has title, items "
                   "and paragraphs")
    title = _text(data.get("title"), data, "title", fail)
    if title is None:
        fail(data, "a report section needs a 'title'")
    items = _texts(data, "items", fail)
    paragraphs = _texts(data, "paragraphs", fail)
    if title is None or items is None or paragraphs is None:
        return None
    return OutlineSection(title, tuple(items), tuple(paragraphs))


def _check_once(sections: list[SectionEntry], fail: Fail) -> None:
    """A section title, an item or a paragraph is in one section only: the report could
    not say which to put it in."""
    seen: dict[tuple[str, str], SectionEntry] = {}
    for entry in sections:
        section = entry.section
        named = [("section title", section.title.casefold(), section.title)]
        named += [("item", key, key) for key in section.items]
        named += [("paragraph", p.casefold(), p) for p in section.paragraphs]
        for what, key, said in named:
            first = seen.setdefault((what, key), entry)
            if first is not entry:
                fail(entry.at, f"the {what} {said!r} is in two sections of the report "
                               f"(also line {first.at.line})")


def _text(value: Any, at: LinedMapping, name: str, fail: Fail) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        fail(at, f"'{name}' must be text, not {shown(value)}")
        return None
    text = str(value).strip()
    try:
        within_length(text, name)
        check_text(name, text)
    except InvalidFieldError as error:
        fail(at, str(error))
        return None
    return text or None


def _texts(data: LinedMapping, name: str, fail: Fail) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return []
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_LIST:
        fail(data, f"'{name}' must be a list of at most {MAX_LIST:,} "
                   f"{'item keys' if name == 'items' else 'paragraphs'}")
        return None
    texts = []
    for entry in value:
        text = _text(entry, data, name, fail)
        if text is None:
            if entry is None or entry == "":
                fail(data, f"'{name}' has an empty entry")
            return None
        texts.append(text)
    return texts
