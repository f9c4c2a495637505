"""Small helpers shared by the CLI modules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import typer
from pydantic import TypeAdapter, ValidationError

from service.errors import validation_items

LOCAL_STAMP = "%Y-%m-%d %H:%M"


def local_stamp(instant: datetime | None, zone: Any, empty: str = "-") -> str:
    """``instant`` as "2027-02-03 07:00" in ``zone`` (BANTIN_TIMEZONE's ZoneInfo); ``empty`` for None.
    Listings say which zone in their header (:func:`print_table`)."""
    return empty if instant is None else instant.astimezone(zone).strftime(LOCAL_STAMP)


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A listing: one tab-separated header line, then one line per row; nothing at all when
    there are no rows (an empty listing stays empty for scripts, as ``ls`` does)."""
    if not rows:
        return
    typer.echo("\t".join(header))
    for row in rows:
        typer.echo("\t".join(str(value) for value in row))


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` to stderr; raise the returned Exit."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def validation_failure(exc: ValidationError) -> typer.Exit:
    """Print each invalid field and why, on one line; returns the typer.Exit (status 2) to raise."""
    return fail("; ".join(f"{i['field']}: {i['message']}" for i in validation_items(list(exc.errors()))))


def parser_for(annotation: Any) -> Callable[[str], Any]:
    """A typer ``parser`` that validates with one of ``service.inputs``' types, as the API does.

    A bad value ends the command as Click's usage errors do: ``Invalid value for '--since': …``, exit 2.
    """
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)

    def parse(text: str) -> Any:
        if not isinstance(text, str):
            return text  # a default, already of the type
        try:
            return adapter.validate_python(text)
        except ValidationError as exc:
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise typer.BadParameter(f"{text!r}: {reasons}") from None

    return parse
