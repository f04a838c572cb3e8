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
