"""The route class and router factory of the JSON API (``/api/v1``), and the methods a path allows.

FastAPI reads a JSON body with Starlette's ``Request.json``: plain ``json.loads``, whose
RecursionError on a deeply nested body became a 400 in FastAPI's own shape, and whose
success on one nested a few hundred deep became a 500 further on (issue 18, item 11). Here
the body is read with ``service.json_input.parse_json`` instead, so a body that is not
UTF-8, not JSON or too deeply nested is FastAPI's ``json_invalid`` error: a 422 naming
``body`` in our error shape (``service/api/errors.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from service.json_input import parse_json


class BoundedJsonRequest(Request):
    """A request whose ``json()`` is :func:`parse_json` of its body (JsonRefused, a JSONDecodeError, on refusal)."""

    async def json(self) -> Any:
        """The body as JSON, parsed once."""
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class JsonApiRoute(APIRoute):
    """An API route whose endpoint and dependencies see a :class:`BoundedJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, handed the request as a BoundedJsonRequest."""
        handler = super().get_route_handler()

        async def bounded_json_handler(request: Request) -> Response:
            return await handler(BoundedJsonRequest(request.scope, request.receive))

        return bounded_json_handler


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter (``kwargs`` as APIRouter takes them) whose routes read JSON bodies within bounds."""
    return APIRouter(route_class=JsonApiRoute, **kwargs)


# The order methods are named in an Allow header.
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(routes: Sequence[BaseRoute], path: str) -> list[str]:
    """Every method some route answers for ``path`` (RFC 9110 §10.2.1: the Allow field of a 405
    lists the target resource's methods), HEAD with GET (the documents layer answers HEAD
    for every GET route: ``head_as_get``).

    Starlette's 405 names only the first route whose path matched, so ``GET`` alone for
    ``/api/v1/articles/1``, which PATCH and DELETE answer too.
    """
    methods: set[str] = set()
    for route in iter_route_contexts(routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path) and route.methods:
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods, key=lambda method: (METHOD_ORDER.index(method) if method in METHOD_ORDER else 99, method))
