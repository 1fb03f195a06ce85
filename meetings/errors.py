"""Domain errors raised by services and mapped to HTTP in one place (``meetings.http``)."""


class DomainError(Exception):
    """Base of the errors a service raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Unauthorized(DomainError):
    """No credentials, or ones that do not work (the API's bearer token)."""

    status = 401
    code = "unauthorized"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class NotEligible(NotAllowed):
    code = "not_eligible"


class AlreadyVoted(Conflict):
    code = "already_voted"


class PollNotOpen(Conflict):
    code = "poll_not_open"


class PollStillOpen(InvalidTransition):
    """A meeting cannot end while one of its polls is open."""

    code = "poll_still_open"


class ConfirmationNeeded(Conflict):
    """A step that is allowed but unusual (starting a meeting far from its
    time): done once the person confirms it (the API's ``confirm: true``)."""

    code = "confirmation_needed"
