"""Named domain errors. Each says, in words a Secretariat officer reads, what made no sense."""


class DomainError(Exception):
    """A command that makes no sense for the item as it stands."""


class InvalidDateError(DomainError, ValueError):
    """A date that cannot be read, or that names no real day."""


class FutureDateError(InvalidDateError):
    """A business date so far ahead that it is taken for a typo (3016 for 2016)."""


class InvalidFieldError(DomainError, ValueError):
    """A field that is missing, empty or of the wrong type."""


class UnknownEventTypeError(DomainError):
    """An event type that the item's kind does not have."""


class AgreementExpiredError(DomainError):
    """An agreement that has expired, or was superseded, cannot move on."""


class AlreadyEndorsedError(DomainError):
    """The same governing body cannot endorse the same agreement twice."""


class AlreadySignedError(DomainError):
    """An agreement is signed once; a new text is a renewal."""


class StatusRegressionError(DomainError):
    """An item cannot go back to an earlier stage of its life (record a correction instead)."""


class PostAlreadyFilledError(DomainError):
    """A post that has an officer in it cannot be filled again before it is vacated."""


class PostNotFilledError(DomainError):
    """A post that nobody holds cannot be vacated, nor its officer start."""


class MeetingAlreadyHeldError(DomainError):
    """A meeting is held once; a further session is another meeting."""


class MeetingCancelledError(DomainError):
    """A cancelled meeting cannot be held, scheduled or cancelled again."""


class ConsultationNotIssuedError(DomainError):
    """Submissions come in only after the notification calling for them was issued."""


class ConsultationClosedError(DomainError):
    """A closed consultation takes no more submissions and cannot close again."""


class ConsultationAlreadyIssuedError(DomainError):
    """A notification is issued once."""


class EngagementConcludedError(DomainError):
    """A concluded engagement takes no further progress."""


class CorrectionTargetError(DomainError):
    """A correction must point at an earlier event of the same item that is not retracted."""


class UnknownItemError(DomainError):
    """No item or partner is known by that key."""


class DuplicateItemError(DomainError):
    """An item or partner with that key already exists."""


class InvalidTextError(InvalidFieldError):
    """Text with a character no store can hold: NUL, a control character, a lone surrogate."""

    def __init__(self, field: str, character: str, position: int) -> None:
        self.field, self.character, self.position = field, character, position
        code = ord(character)
        if code == 0:
            what = "a NUL character (U+0000)"
        elif 0xDC80 <= code <= 0xDCFF:  # how Python carries a byte that is not UTF-8
            what = f"a byte that is not UTF-8 (0x{code - 0xDC00:02X})"
        elif 0xD800 <= code <= 0xDFFF:
            what = f"half of a character (a lone surrogate, U+{code:04X})"
        else:
            what = f"a control character (U+{code:04X})"
        super().__init__(f"{field}: {what} at character {position + 1} cannot be recorded; "
                         "remove it")

    def __reduce__(self) -> tuple[type[DomainError], tuple[str, str, int]]:
        return type(self), (self.field, self.character, self.position)


class VersionGapError(DomainError):
    """An item's stored versions skip a number: it cannot be read until the gap is acknowledged."""

    def __init__(self, label: str, key: str, missing: range) -> None:
        self.label, self.key, self.missing = label, key, tuple(missing)
        if 1 in self.missing:
            message = (f"the history of {label} has no registration at version 1, "
                       "so it cannot be read; `cmsbot audit verify` says more, and only a "
                       "copy of the log from before can restore it")
        else:
            at = (f"version {self.missing[0]}" if len(self.missing) == 1 else
                  f"versions {self.missing[0]}–{self.missing[-1]}")
            message = (f"the history of {label} has a gap at {at}: no event is stored there, "
                       "so nothing can be recorded on it until an operator acknowledges the "
                       f"gap with `cmsbot audit repair-gap {key} --reason \"…\"` "
                       "(see docs/audit.md)")
        super().__init__(message)

    def __reduce__(self) -> tuple[type["VersionGapError"], tuple[str, str, range]]:
        # Built from its parts, not its message, when it crosses to another process.
        return type(self), (self.label, self.key, range(self.missing[0], self.missing[-1] + 1))


class RegistrationMissingError(DomainError):
    """An item whose first event (its registration) is missing cannot have that gap acknowledged."""


class NoPlannedStepError(DomainError):
    """Postponing, cancelling or closing a step needs a planned step of that name."""


class ItemCancelledError(DomainError):
    """A cancelled item takes no further plans (record a correction if it was not)."""
