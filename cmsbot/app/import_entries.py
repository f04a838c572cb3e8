"""Running a history file's checked entries as commands on their items' aggregates: the
part of an import (`cmsbot.app.importing`) that turns entries into events, with each
problem's line."""

from __future__ import annotations

from typing import Any

from cmsbot.app.recording import check_partners, typed_changes
from cmsbot.history import EventEntry, Header, ItemEntry
from cmsbot.history_entries import fact_key
from domain import events as ev
from domain.catalogue import SPECS
from domain.errors import CorrectionTargetError, DomainError
from domain.items import ITEM_CLASSES, Item
from domain.provenance import Fact, Source

# Problems, each with the line of the file it is about.
Problems = list[tuple[int, str]]


class ItemRecorder:
    """Runs checked entries' commands on their items' aggregates, and collects each problem
    with its line. An entry that restates a fact of an item recorded before, from another
    document, corroborates it instead."""

    def __init__(self, header: Header, partners: set[str]) -> None:
        self.header, self.partners = header, partners
        self.problems: Problems = []
        self.new_items = self.events = self.skipped = self.corroborated = 0

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return self.new_items, self.events, self.skipped, self.corroborated

    def record(self, entry: ItemEntry, existing: Item | None) -> Item | None:
        header = self.header
        for key in entry.details["partners"]:
            if key not in self.partners:
                self.problems.append((entry.line, f"no partner has the key {key!r}"))
        facts: _Facts | None = None  # of an item recorded before, read when first needed
        if existing is not None:
            item = existing
            if item.KIND is not entry.kind:
                self.problems.append((entry.line, f"{entry.key!r} is already tracked as "
                                                  f"{item.KIND.named}, not "
                                                  f"{entry.kind.named}"))
                return None
            self.skipped += 1
        else:
            fact = Fact(entry.occurred, header.actor, entry.source, None,
                        header.ref(entry.key))
            item = ITEM_CLASSES[entry.kind].register(fact, key=entry.key, title=entry.title,
                                                     **entry.details)
            self.new_items += 1
        for event in entry.events:
            ref = header.ref(entry.key, event.id)
            if item.has_recorded(ref):
                self.skipped += 1
                continue
            try:
                values = dict(event.raw)
                check_partners(values, self.partners.__contains__)
                for name in ("corrects", "retracts"):
                    if name in values:
                        values[name] = _version_of(item, header, entry.key, values[name])
                if "changes" in values:
                    values["changes"] = typed_changes(item, values["corrects"],
                                                      values["changes"])
                fact = Fact(event.occurred, header.actor, event.source, event.note, ref)
                if existing is not None and facts is None:
                    facts = _Facts(item)
                restated = facts.restated(event, values) if facts is not None else None
                if restated is None:
                    getattr(item, event.spec.command)(fact, **values)
                    self.events += 1
                elif facts is not None and facts.cites(restated, event.source):
                    self.skipped += 1  # this document said it already
                else:
                    item.corroborate(fact, corroborates=restated.originator_version)
                    self.corroborated += 1
            except DomainError as error:
                self.problems.append((event.line, str(error)))
            except TypeError as error:
                self.problems.append((event.line,
                                      f"wrong fields for '{event.spec.name}': {error}"))
        return item


class _Facts:
    """The facts an item recorded before holds (not retracted), by what makes two the same
    (`fact_key`), and the documents that stated each."""

    def __init__(self, item: Item) -> None:
        history = [e for e in item.history if isinstance(e, ev.ItemEvent)]
        retracted = {e.retracts for e in history if isinstance(e, ev.EventRetracted)}
        self.by_key: dict[tuple[Any, ...], ev.ItemEvent] = {}
        self.documents: dict[int, set[str | None]] = {}
        for event in history:
            if isinstance(event, ev.FactCorroborated):
                self.documents.setdefault(event.corroborates, set()).add(event.source.document)
            elif event.originator_version not in retracted:
                self.by_key.setdefault(_key_of(event), event)
                self.documents.setdefault(event.originator_version, set()).add(
                    event.source.document)

    def restated(self, entry: EventEntry, values: dict[str, Any]) -> ev.ItemEvent | None:
        """The fact recorded before that this entry states again, if any."""
        if entry.spec.event_class in (ev.EventCorrected, ev.EventRetracted):
            return None
        return self.by_key.get(fact_key(entry.spec.event_class.__name__, entry.occurred,
                                         values))

    def cites(self, event: ev.ItemEvent, source: Source) -> bool:
        """Whether the fact already cites the document of `source`."""
        return source.document in self.documents.get(event.originator_version, set())


def _key_of(event: ev.ItemEvent) -> tuple[Any, ...]:
    names = _FIELDS.get(type(event), frozenset())
    return fact_key(type(event).__name__, event.occurred,
                    {name: getattr(event, name) for name in names})


_FIELDS = {spec.event_class: spec.field_names for spec in SPECS}



def _version_of(item: Item, history: Header, item_key: str, target: Any) -> int:
    """A correction names its target by version number, by entry id (in this file, or in
    an earlier one when only one entry of the item has that id) or by full ref."""
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    wanted = str(target)
    same_file = history.ref(item_key, wanted)
    refs = {event.ref: event.originator_version for event in item.history if event.ref}
    if same_file in refs:
        return refs[same_file]
    if wanted in refs:
        return refs[wanted]
    elsewhere = [v for ref, v in refs.items() if ref.endswith(f"#{item_key}/{wanted}")]
    if len(elsewhere) == 1:
        return elsewhere[0]
    raise CorrectionTargetError(f"{item_key!r} has no earlier event with id {wanted!r}"
                                + (" in one file only; give its full ref" if elsewhere else ""))
