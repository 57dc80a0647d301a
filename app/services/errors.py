"""Domain exceptions. Each carries a message a person can act on, in their language."""


class DomainError(Exception):
    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class EvidenceRejected(DomainError):
    """An evidence file is too large, of a kind not accepted, or unreadable."""


class EvidenceUnavailable(DomainError):
    """A stored evidence file is missing or damaged: it cannot be opened (nothing is audited)."""


class InvalidReceipt(DomainError):
    """No case opens with this receipt (the message never says more than that)."""


class SessionExpired(DomainError):
    """The reporter's session ended: idle too long, too old, or logged out."""


class NotAuthorised(Exception):
    """The person lacks the role or the key for this action. Not a DomainError: the views do
    not show it beside a form but let it through to the one 403 page (app/errors.py)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StorageFull(DomainError):
    """The upload volume cannot hold the file; nothing was stored."""
