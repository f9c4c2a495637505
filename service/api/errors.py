"""One error shape for the whole API: ``{"detail": [{"field", "message", "type"}]}`` or a sentence."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from service.errors import Conflict, InvalidField, NotFound

# FastAPI prefixes locations with where the value came from; staff care about the field.
_LOCATION_PREFIXES = {"body", "query", "path", "header"}


def field_name(loc: tuple[Any, ...] | list[Any], ctx: dict[str, Any] | None = None) -> str:
    parts = [str(p) for p in loc]
    where = None
    if parts and parts[0] in _LOCATION_PREFIXES:
        where, parts = parts[0], parts[1:]
    if not parts and ctx and "field" in ctx:
        # A rule across fields (a model validator) names the field it blames in its context.
        return str(ctx["field"])
    return ".".join(parts) or where or "body"


def validation_items(errors: list[Any]) -> list[dict[str, str]]:
    items = []
    for error in errors:
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        if error.get("type") == "json_invalid":
            message = f"is not valid JSON: {error.get('ctx', {}).get('error', 'parse error')}"
        items.append(
            {
                "field": field_name(error.get("loc", ()), error.get("ctx")),
                "message": message,
                "type": error.get("type", ""),
            }
        )
    return items


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_items(list(exc.errors()))}, status_code=422)

    @app.exception_handler(InvalidField)
    async def _invalid(_: Request, exc: InvalidField) -> JSONResponse:
        return JSONResponse(
            {"detail": [{"field": exc.field, "message": exc.message, "type": "invalid"}]}, status_code=422
        )

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)
