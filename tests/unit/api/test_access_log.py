"""BANTIN_ACCESS_LOG_SAMPLE: the share of answers with an access line; server errors always (decision 0046)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.types import Receive, Scope, Send

from service.api.observability import RequestObservability, request_id_from
from service.observability.logs import VETTED


def answering(status: int):  # type: ignore[no-untyped-def]
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def lines_for(sample: float, statuses: list[int], caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    async def run() -> None:
        for status in statuses:
            layer = RequestObservability(answering(status), access_log_sample=sample)
            scope = {"type": "http", "method": "GET", "path": "/healthz", "headers": [], "client": ("10.0.0.9", 1)}

            async def receive() -> dict[str, object]:
                return {"type": "http.request", "body": b""}

            async def send(_: object) -> None:
                return None

            await layer(scope, receive, send)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bantin.access"):
        asyncio.run(run())
    return [r for r in caplog.records if r.name == "bantin.access"]


def test_every_answer_has_a_line_by_default(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.status for r in lines_for(1.0, [200, 304, 404, 500], caplog)] == [200, 304, 404, 500]  # type: ignore[attr-defined]


def test_none_at_zero_but_server_errors(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.status for r in lines_for(0.0, [200, 304, 404, 500, 503], caplog)] == [500, 503]  # type: ignore[attr-defined]


def test_a_share_in_between(caplog: pytest.LogCaptureFixture) -> None:
    written = len(lines_for(0.5, [200] * 400, caplog))
    assert 0 < written < 400  # all or none of 400 at one half: 2 in 2**400


def test_access_lines_without_path_ids_are_vetted(caplog: pytest.LogCaptureFixture) -> None:
    [line] = lines_for(1.0, [200], caplog)
    assert getattr(line, VETTED) is True and line.getMessage().startswith("GET <unmatched> 200 ")


def test_a_request_id_the_redactor_would_mask_is_replaced() -> None:
    for shaped in ("btn_AbCdEfGhIjKl", "1234567890123456789", "bot12345:secretpart"):
        made = request_id_from([(b"x-request-id", shaped.encode())])
        assert made != shaped and len(made) == 32
    assert request_id_from([(b"X-Request-ID", b"req-42")]) == "req-42"
    # New ids are distinct.
    assert len({request_id_from([]) for _ in range(1000)}) == 1000
