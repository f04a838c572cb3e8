"""The commands every kind of item has: partners and documents, corrections and
retractions, and what can happen to any plan: a note, a postponement, a cancellation, a
step closed with its outcome unknown, a fact restated by a later document."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from domain import errors
from domain import events as ev
from domain.dates import PartialDate
from domain.handlers.shared import endorsement_label
from domain.provenance import Fact

if TYPE_CHECKING:
    from domain.state import ItemState

UNCORRECTABLE = {"originator_id", "originator_version", "timestamp", "originator_topic",
                 "actor", "ref"}


class SharedCommands:
    """Mixed into `domain.items.Item`."""

    if TYPE_CHECKING:
        state: ItemState
        history: list[ev.ItemRegistered | ev.ItemEvent | ev.VersionGapAcknowledged]

        def _record(self, event_class: type[ev.ItemEvent], fact: Fact, **fields: Any,
                    ) -> None: ...

    # Commands every kind has ------------------------------------------------------------

    def join_partner(self, fact: Fact, *, partner: str, role: str | None = None) -> None:
        self._record(ev.PartnerJoined, fact, partner=partner, role=role)

    def link_document(self, fact: Fact, *, document: str, description: str | None = None,
                      ) -> None:
        self._record(ev.DocumentLinked, fact, document=document, description=description)

    def correct(self, fact: Fact, *, corrects: int, changes: dict[str, Any], reason: str,
                ) -> None:
        target = self._correctable(corrects)
        names = {f.name for f in dataclasses.fields(target)} - UNCORRECTABLE
        unknown = sorted(set(changes) - names)
        if unknown or not changes:
            raise errors.CorrectionTargetError(
                f"event {corrects} ({target.type_name}) has no field {', '.join(unknown)}"
                if unknown else "a correction must change at least one field")
        self._record(ev.EventCorrected, fact, corrects=corrects, changes=dict(changes),
                     reason=reason)

    def retract(self, fact: Fact, *, retracts: int, reason: str) -> None:
        target = self._correctable(retracts)
        if isinstance(target, ev.ItemRegistered):
            raise errors.CorrectionTargetError("an item's registration cannot be retracted")
        self._record(ev.EventRetracted, fact, retracts=retracts, reason=reason)

    def _correctable(self, version: int) -> ev.ItemRegistered | ev.ItemEvent:
        if not 1 <= version <= len(self.history):
            raise errors.CorrectionTargetError(f"{self.state.title} has no event {version}")
        target = self.history[version - 1]
        if isinstance(target, ev.VersionGapAcknowledged):
            raise errors.CorrectionTargetError(
                f"{self.state.title} has no event {version}: none was stored at that version "
                f"(a gap acknowledged by {target.actor}: {target.reason})")
        if isinstance(target, ev.EventCorrected | ev.EventRetracted):
            raise errors.CorrectionTargetError("a correction cannot itself be corrected; "
                                               "retract the original and record it anew")
        retracted = {e.retracts for e in self.history if isinstance(e, ev.EventRetracted)}
        if version in retracted:
            raise errors.CorrectionTargetError(f"event {version} was retracted already")
        return target

    def note(self, fact: Fact) -> None:
        if not (fact.note or "").strip():
            raise errors.InvalidFieldError("'noted' needs the field 'note'")
        self._record(ev.ItemNoted, fact)

    def postpone(self, fact: Fact, *, date: PartialDate, step: str | None = None,
                 reason: str | None = None) -> None:
        self._check_plannable()
        entry = self.state.step(step)
        if entry is None and self.state.kind.value == "meeting" and (
                step is None or step.strip().casefold() == self.state.title.casefold()):
            entry = (self.state.title, date)  # a meeting never dated is dated now
        if entry is None:
            raise self._no_step(step, "postpone")
        self._record(ev.ItemPostponed, fact, date=date, step=self._named(entry[0]),
                     reason=reason)

    def cancel_plan(self, fact: Fact, *, step: str | None = None) -> None:
        self._check_plannable()
        label = None
        if step is not None:
            entry = self.state.step(step)
            if entry is None:
                raise self._no_step(step, "cancel")
            label = entry[0]
        self._record(ev.ItemCancelled, fact, step=label)

    def close_step(self, fact: Fact, *, step: str | None = None) -> None:
        entry = self.state.step(step)
        label = entry[0] if entry else None
        if label is None:  # an endorsement awaited at a meeting not dated
            awaited = [endorsement_label(meeting) for _, meeting in
                       self.state.pending_endorsements]
            wanted = step.strip().casefold() if step else None
            label = next((a for a in awaited if wanted in (None, a.casefold())), None)
        if label is None:
            raise self._no_step(step, "close")
        self._record(ev.OutcomeUnknown, fact, step=self._named(label))

    def corroborate(self, fact: Fact, *, corroborates: int) -> None:
        target = self._correctable(corroborates)
        if isinstance(target, ev.FactCorroborated):
            raise errors.CorrectionTargetError("a restatement corroborates a fact, not "
                                               "another restatement")
        self._record(ev.FactCorroborated, fact, corroborates=corroborates)

    def _named(self, label: str) -> str | None:
        """The step as the event names it: a meeting's own step is the meeting (None),
        whose title its history need not repeat."""
        return None if label == self.state.title and self.state.kind.value == "meeting" \
            else label

    def _check_plannable(self) -> None:
        if self.state.cancelled:
            raise errors.ItemCancelledError(f"{self.state.title} was cancelled")
        if self.state.held:
            raise errors.MeetingAlreadyHeldError(f"{self.state.title} was held already")

    def _no_step(self, step: str | None, verb: str) -> errors.NoPlannedStepError:
        plans = [label for label, _ in self.state.agenda] + [
            endorsement_label(m) for _, m in self.state.pending_endorsements
            if endorsement_label(m) not in {label for label, _ in self.state.agenda}]
        what = f"no planned step {step!r}" if step else "nothing planned"
        return errors.NoPlannedStepError(
            f"{self.state.title} has {what} to {verb}" + (
                f"; its planned steps: {', '.join(plans)}" if plans else ""))
