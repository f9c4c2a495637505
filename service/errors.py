"""Domain errors; the API and CLI turn them into HTTP answers and messages."""

from __future__ import annotations

from typing import Any

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


# FastAPI prefixes locations with where the value came from; staff care about the field.
_LOCATION_PREFIXES = {"body", "query", "path", "header"}


def field_name(loc: tuple[Any, ...] | list[Any], ctx: dict[str, Any] | None = None) -> str:
    """The dotted field a pydantic error location names, without FastAPI's ``body``/``query`` prefix."""
    parts = [str(p) for p in loc]
    where = None
    if parts and parts[0] in _LOCATION_PREFIXES:
        where, parts = parts[0], parts[1:]
    if not parts and ctx and "field" in ctx:
        # A rule across fields (a model validator) names the field it blames in its context.
        return str(ctx["field"])
    return ".".join(parts) or where or "body"


def validation_items(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic errors as ``{"field", "message", "type"}`` items: the API's 422 body and the CLI's message."""
    items = []
    for error in errors:
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        field = field_name(error.get("loc", ()), error.get("ctx"))
        if error.get("type") == "json_invalid":
            # FastAPI locates a JSON error as ("body", character offset): the field is the body,
            # and service.json_input's reason names the place.
            message = f"is not valid JSON: {error.get('ctx', {}).get('error', 'parse error')}"
            field = "body"
        items.append({"field": field, "message": message, "type": error.get("type", "")})
    return items
