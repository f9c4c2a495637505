"""Domain errors; the API and CLI turn them into HTTP answers and messages."""

from __future__ import annotations

# The error type of a value over a size limit: the API answers 413 for it, as for a request too large.
TOO_LARGE = "too_large"


class DomainError(Exception):
    """Base class: a request that cannot be carried out as asked."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class InvalidField(DomainError):
    """A value that passed the schema but breaks a rule only the domain knows."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
