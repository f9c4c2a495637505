"""Refuse oversized request bodies before they are read into memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """ASGI middleware: 413 when a body is larger than ``max_bytes``.

    Checks ``Content-Length`` up front and counts streamed chunks too, so a chunked
    upload cannot get past it. A chunked body found too large while an endpoint reads it
    raises `RequestTooLarge`, an HTTPException: FastAPI lets those through its body
    parsing (any other error there becomes a 400) and answers it with the error shape.
    ``path_limits`` gives a path (exactly) a limit of its own: the image upload.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await self._too_large(send, max_bytes)
                return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise RequestTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except RequestTooLarge:
            # Raised where no exception handler runs (outside a route): answered here.
            if not response_started:
                await self._too_large(send, max_bytes)

    async def _too_large(self, send: Send, max_bytes: int) -> None:
        body = json.dumps({"detail": RequestTooLarge(max_bytes).detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RequestTooLarge(HTTPException):
    """413 with the API's error shape, naming the request body."""

    def __init__(self, max_bytes: int) -> None:
        detail: list[dict[str, Any]] = [
            {"field": "body", "message": f"request body is larger than {max_bytes} bytes", "type": "too_large"}
        ]
        super().__init__(status_code=413, detail=detail)
