"""The report's sections, as the Secretariat's "Synergies and Partnerships" reports have them,
and which section an item belongs in.

An item first recorded from a known report keeps that report's section (its paragraph says
where); an item recorded otherwise goes by its first partner's category.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.state import ItemState

ACTION = "action"
OTHER = "other"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    categories: frozenset[str] = frozenset()


SECTIONS: tuple[Section, ...] = (
    Section("cms-family", "Streamlining activities within the CMS Family",
            frozenset({"cms-instrument", "cms-body"})),
    Section("un-system", "Promoting CMS issues in the UN system", frozenset({"un"})),
    Section("meas", "Promoting synergies with other Multilateral Environmental Agreements "
                    "(MEAs)", frozenset({"convention"})),
    Section("civil-society", "Strengthening existing collaboration with other IGOs and "
                             "civil society", frozenset({"ngo", "government"})),
    Section("strategic", "Engagement in strategic collaborations",
            frozenset({"igo", "rfmo"})),
    Section("regional", "Strengthening regional collaboration and presence of CMS",
            frozenset({"unep-office"})),
    Section(OTHER, "Other activities"),
    Section(ACTION, "Action requested"),
)

# Which paragraphs of a known report fall under which section (its own headings).
PARAGRAPHS: dict[str, tuple[tuple[int, int, str], ...]] = {
    "UNEP/CMS/StC44/18": ((1, 1, "cms-family"), (2, 5, "un-system"), (6, 10, "meas"),
                          (11, 15, "civil-society"), (16, 18, "strategic"),
                          (19, 23, "regional")),
}
_LATE = 10_000  # items placed by partner come after those placed by paragraph


def place(state: ItemState, categories: dict[str, str | None]) -> tuple[str, int]:
    """(section key, order within the section) for an item."""
    first = state.sources[0] if state.sources else None
    if first is not None and first.paragraph:
        paragraph = first.paragraph.strip()
        if paragraph.casefold() == "action requested":
            return ACTION, _LATE
        if paragraph.isdigit():
            for low, high, key in PARAGRAPHS.get(first.document or "", ()):
                if low <= int(paragraph) <= high:
                    return key, int(paragraph)
    for partner in state.partners:
        category = categories.get(partner)
        for section in SECTIONS:
            if category in section.categories:
                return section.key, _LATE
    return OTHER, _LATE
