"""Request ids, request metrics and access lines (one ASGI middleware), and ``/metrics``.

The access line is ours, not uvicorn's: uvicorn logs the raw path, and raw paths carry
unsubscribe tokens and query strings; ours names the route template instead.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.audit.context import acting
from service.db.engine import read_scope
from service.db.types import utcnow
from service.observability import multiprocess
from service.observability.database import DatabaseCollector
from service.observability.logs import CONTEXT_FIELDS, bound
from service.observability.metrics import HTTP_DURATION, HTTP_REQUESTS

router = APIRouter(tags=["operations"])
access_log = logging.getLogger("bantin.access")
REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept when it is short and plain; anything else could forge log lines.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
UNMATCHED = "<unmatched>"


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` when acceptable, else a new random one (32 hex digits)."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            if _ACCEPTABLE_REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


class RequestObservability:
    """Pure ASGI (no body buffering): binds the request id, echoes it, counts and times by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        # The client as ClientAddress decided (outside this middleware): on the access line and
        # every line logged while the request runs.
        client = scope["client"][0] if scope.get("client") else None
        # The same client is the audit log's "from where" (anonymous until authenticated).
        with bound(request_id=request_id, client=client), acting(client=client):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", None) or UNMATCHED
                method = scope["method"]
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_DURATION.labels(method, route).observe(elapsed)
                # Ids from the path (article_id, subscription_id, delivery_id), never other parameters.
                ids = {k: v for k, v in scope.get("path_params", {}).items() if k in CONTEXT_FIELDS}
                access_log.info(
                    "%s %s %d %.1f ms",
                    method,
                    route,
                    status,
                    elapsed * 1000,
                    extra={"method": method, "route": route, "status": status, "duration_ms": round(elapsed * 1000, 1)}
                    | ids,
                )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus text format: this host's API processes, plus the database's queue depths (only here)."""
    registry = CollectorRegistry()
    if multiprocess.enabled():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector(read_scope, utcnow))
    return Response(body + generate_latest(database), media_type=CONTENT_TYPE_PLAIN_0_0_4)
