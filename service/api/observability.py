"""Request ids, request metrics and access lines (one ASGI middleware), and ``/metrics``.

The access line is ours, not uvicorn's: uvicorn logs the raw path, and raw paths carry
unsubscribe tokens and query strings; ours names the route template instead. It can be
sampled or turned off where a proxy keeps its own (``BANTIN_ACCESS_LOG_SAMPLE``); server
errors are always logged. Counts and latencies are added up in-process and written to
the metrics once a second (``service.observability.tally``, decision 0046).
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from itertools import count

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.audit.context import acting
from service.db.engine import read_scope
from service.db.types import utcnow
from service.observability import multiprocess, tally
from service.observability.access_lines import AccessLines
from service.observability.database import DatabaseCollector
from service.observability.logs import CONTEXT_FIELDS, VETTED, bound, needs_no_masking
from service.observability.metrics import HTTP_DURATION_TALLY, HTTP_REQUESTS_TALLY

router = APIRouter(tags=["operations"])
access_log = logging.getLogger("bantin.access")
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()
# A caller's id is kept when it is short and plain; anything else could forge log lines.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
UNMATCHED = "<unmatched>"
# Methods an access line may carry unscanned (any other token goes through the redactor).
_PLAIN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


class _RequestIds:
    """New request ids: 16 random hex digits per process, then a counter in 16 hex digits.

    Unique as random 128-bit ids are in practice (two processes share a prefix with
    probability 2⁻⁶⁴), without a system call per request as ``uuid4`` made. A forked child
    draws a prefix of its own.
    """

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = count(random.getrandbits(32))

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFFFFFF:016x}"


_new_request_id = _RequestIds().next


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` when acceptable, else a new one (32 hex digits, :class:`_RequestIds`).

    Acceptable: short, plain, and nothing the log redactor would mask (a token's shape, a
    long number, a configured secret), since access lines are written unscanned.
    """
    for name, value in headers:
        if name.lower() == _REQUEST_ID_NAME:
            text = value.decode("latin-1")
            if _ACCEPTABLE_REQUEST_ID.match(text) and needs_no_masking(text):
                return text
    return _new_request_id()


class RequestObservability:
    """Pure ASGI (no body buffering): binds the request id, echoes it, counts and times by
    route template, and writes the access line of ``access_log_sample`` of the answers
    (0: none, 1: every one) and of every server error (5xx)."""

    def __init__(self, app: ASGIApp, access_log_sample: float = 1.0, access_lines: AccessLines | None = None) -> None:
        self.app = app
        self.access_log_sample = access_log_sample
        # The buffered writer when our logging is in place (decision 0050); else log records.
        self.access_lines = access_lines

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
                # A copy: the documents' header lists are shared between requests.
                message["headers"] = [*message["headers"], (_REQUEST_ID_NAME, request_id.encode())]
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
                HTTP_REQUESTS_TALLY.add(method, route, str(status))
                HTTP_DURATION_TALLY.observe(elapsed, method, route)
                if self._logs(status):
                    self._access_line(scope, method, route, status, elapsed)

    def _logs(self, status: int) -> bool:
        sample = self.access_log_sample
        return sample >= 1.0 or status >= 500 or (sample > 0.0 and random.random() < sample)  # noqa: S311 - a sample, not a secret

    def _access_line(self, scope: Scope, method: str, route: str, status: int, elapsed: float) -> None:
        """One ``bantin.access`` line. Without ids from the path it holds only what is known
        to be plain (a standard method, our template, numbers, a vetted request id, an address),
        so it is written unscanned (``VETTED``); a path's ids or another method go through the redactor."""
        duration_ms = round(elapsed * 1000, 1)
        message = f"{method} {route} {status} {duration_ms:.1f} ms"
        fields: dict[str, object] = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
        # Ids from the path (article_id, subscription_id, delivery_id), never other parameters.
        ids = {k: v for k, v in scope.get("path_params", {}).items() if k in CONTEXT_FIELDS}
        fields |= ids
        vetted = not ids and method in _PLAIN_METHODS
        if self.access_lines is not None:
            self.access_lines.add(message, fields, vetted, server_error=status >= 500)
            return
        if vetted:
            fields[VETTED] = True
        access_log.info(message, extra=fields)


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus text format: this host's API processes, plus the database's queue depths (only here).

    This process's tallies are flushed first; the others' requests show within a second.
    """
    tally.flush()
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
