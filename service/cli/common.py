"""Small helpers shared by the CLI modules."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from service.errors import validation_items


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` to stderr; raise the returned Exit."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def validation_failure(exc: ValidationError) -> typer.Exit:
    return fail("; ".join(f"{i['field']}: {i['message']}" for i in validation_items(list(exc.errors()))))
