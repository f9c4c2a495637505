"""One error shape for the whole API, in the answers and in the OpenAPI document.

``{"detail": [{"field", "message", "type"}]}`` for what is wrong with the request (422,
413 for a request or a field over its size limit, and 400 where a webhook's body is not the
platform's event); ``{"detail": "a sentence"}`` for 401, 403, 404, 405 and 409.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from service.api.routing import allowed_methods
from service.errors import TOO_LARGE, Conflict, InvalidField, NotFound, validation_items


class ErrorItem(BaseModel):
    field: str
    message: str
    type: str


class FieldErrors(BaseModel):
    """422 (413, and a webhook's 400): one entry per problem, each naming its field."""

    detail: list[ErrorItem]


class ErrorMessage(BaseModel):
    """401, 403, 404, 409: what went wrong, as a sentence."""

    detail: str


# Declared where they apply: ``APIRouter(…, responses=ADMIN_ONLY)`` or ``@router.patch(…, responses=CONFLICT)``.
# Admin routes answer 403 to tokens without admin; article routes to writers' tokens (WRITER_REFUSED).
ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorMessage, "description": "The token lacks the admin scope"}
}
# A writer's token (scope ``write`` alone) keeps its own drafts: publishing, withdrawing,
# review decisions, the calendar and changing anyone else's article are refused.
WRITER_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorMessage,
        "description": "A token with the 'write' scope only: this needs 'publish', or the article is not its own draft",
    }
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorMessage, "description": "Conflicts with the current state of the resource"}
}
_BODY_METHODS = frozenset({"post", "put", "patch"})
HTML_PAGE: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}


def install_error_handlers(app: FastAPI) -> None:
    """Answer validation errors with 422 (413 when a field is too large), InvalidField with
    422, NotFound with 404 and Conflict with 409, in the error shapes above; a 405 names
    every method of the resource in Allow.
    """
    install_error_documentation(app)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = validation_items(list(exc.errors()))
        # A field over its size limit is a request too large, as the whole request would be.
        status = 413 if any(item["type"] == TOO_LARGE for item in items) else 422
        return JSONResponse({"detail": items}, status_code=status)

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

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:  # Allow names every method of the resource, not the first route's
            allow = ", ".join(allowed_methods(request.app.router.routes, request.url.path))
            exc = HTTPException(405, exc.detail, headers={**(exc.headers or {}), "Allow": allow})
        return await http_exception_handler(request, exc)


def install_error_documentation(app: FastAPI) -> None:
    """Make ``/openapi.json`` describe the errors the API really answers (`document_errors`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's ``loc``/``msg`` 422 with ours, and add the errors every operation can answer.

    By what an operation has: a security requirement → 401; a path parameter →
    404; a body, or a parameter other than a free string → 422; a body method → 413 too
    (the size limit, answered before any route). Codes a route declares itself (403 for
    admin-only routes, 409) are kept. An HTML page's 404 (an unknown link) is a page too.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for fastapi_shape in ("HTTPValidationError", "ValidationError"):
        components.pop(fastapi_shape, None)
    models: tuple[type[BaseModel], ...] = (ErrorItem, FieldErrors, ErrorMessage)
    for shape in models:
        shape_schema = shape.model_json_schema(ref_template="#/components/schemas/{model}")
        shape_schema.pop("$defs", None)
        components[shape.__name__] = shape_schema
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            errors = _errors_of(method, operation)
            if "text/html" in responses.get("200", {}).get("content", {}) and "404" in errors:
                del errors["404"]  # a page's unknown link is a page too
                responses["404"] = {"description": "No such link: a page saying so", "content": HTML_PAGE}
            if "422" in responses and "422" not in errors:
                del responses["422"]  # FastAPI's guess: nothing here can fail validation
            for code, (model, description) in errors.items():
                responses[code] = {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
                }
    return schema


def _errors_of(method: str, operation: dict[str, Any]) -> dict[str, tuple[type[BaseModel], str]]:
    parameters = operation.get("parameters", [])
    errors: dict[str, tuple[type[BaseModel], str]] = {}
    if operation.get("security"):
        errors["401"] = (ErrorMessage, "No bearer token, or an unknown or revoked one")
    if any(parameter.get("in") == "path" for parameter in parameters):
        errors["404"] = (ErrorMessage, "Nothing by that name or id")
    if method in _BODY_METHODS:
        errors["413"] = (FieldErrors, "The request, or a field with a size limit, is too large")
    # An operation that declares its own 400 (a body in someone else's format, such as a
    # Telegram update) answers that for a bad body instead of our 422.
    own_400 = "400" in operation.get("responses", {})
    if not own_400 and ("requestBody" in operation or any(map(_can_be_invalid, parameters))):
        errors["422"] = (FieldErrors, "Invalid input: one entry per problem, naming the field")
    return errors


def _can_be_invalid(parameter: dict[str, Any]) -> bool:
    """Whether a value can fail validation: a required query parameter, or anything but a free string."""
    schema: dict[str, Any] = parameter.get("schema", {})
    if parameter.get("in") == "query" and parameter.get("required") is True:
        return True
    return schema.get("type") != "string" or bool(set(schema) - {"type", "title", "description", "default"})
