"""Access lines made without a log record and written in blocks (decision 0050): the same
text the configured handler writes for the same record, later and in fewer writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any, Literal

import pytest

from service.observability import access_lines, logs

CREATED = 1_796_000_000.0405  # 2026-11-30, 43 ms past a second: the milliseconds are shown


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """The root logger as :func:`logs.configure` leaves it, writing to a buffer; restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield io.StringIO()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def configure(
    stream: io.StringIO, fmt: Literal["json", "text"], level: str = "INFO", secrets: tuple[str, ...] = ()
) -> None:
    """:func:`logs.configure`, its handler writing to ``stream``."""
    handler = logs.configure("api", fmt, level, secrets)
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def writer(
    stream: io.StringIO, fmt: Literal["json", "text"], secrets: tuple[str, ...] = ()
) -> access_lines.AccessLines:
    configure(stream, fmt, "INFO", secrets)
    made = access_lines.for_this_process()
    assert made is not None
    made.clock = lambda: CREATED
    return made


def record_for(message: str, fields: dict[str, Any]) -> logging.LogRecord:
    """The record the logging module would make for the same line, as the handler's filter leaves it."""
    record = logging.LogRecord("bantin.access", logging.INFO, "", 0, message, None, None)
    record.created = CREATED
    record.msecs = int((CREATED - int(CREATED)) * 1000) + 0.0
    for key, value in fields.items():
        setattr(record, key, value)
    record.role = "api"
    for key, value in logs.context().items():
        if not hasattr(record, key):
            setattr(record, key, value)
    return record


PLAIN = ("GET /feeds/{filename} 304 0.4 ms", {"method": "GET", "route": "/feeds/{filename}", "status": 304})
WITH_ID = (
    "GET /articles/{article_id}/{slug} 200 2.1 ms",
    {"method": "GET", "route": "/articles/{article_id}/{slug}", "status": 200, "article_id": "1234567890123456789"},
)


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize(("message", "fields", "vetted"), [(*PLAIN, True), (*WITH_ID, False)])
def test_the_line_is_the_handlers_line(
    stream: io.StringIO, fmt: Literal["json", "text"], message: str, fields: dict[str, Any], vetted: bool
) -> None:
    lines = writer(stream, fmt, secrets=("s3cret-value",))
    with logs.bound(request_id="r-7", client="10.0.0.9"):
        lines.add(message, dict(fields), vetted, server_error=False)
        expected = logging.getLogger().handlers[0].format(record_for(message, dict(fields)))
    lines.flush()
    assert stream.getvalue() == expected + "\n"
    if not vetted:  # an id of a follower's shape is masked, as on every other line
        assert "1234567890123456789" not in stream.getvalue()


def test_lines_wait_for_the_flush_and_come_in_order(stream: io.StringIO) -> None:
    lines = writer(stream, "json")
    for n in range(5):
        lines.add(f"GET /healthz 200 {n}.0 ms", {"method": "GET", "route": "/healthz", "status": 200}, True, False)
    assert stream.getvalue() == ""
    access_lines.flush()
    written = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert written == [f"GET /healthz 200 {n}.0 ms" for n in range(5)]


def test_a_full_buffer_and_a_server_error_are_written_at_once(stream: io.StringIO) -> None:
    lines = writer(stream, "text")
    for _ in range(access_lines.MAX_LINES - 1):
        lines.add("GET /healthz 200 0.1 ms", {}, True, False)
    assert stream.getvalue() == ""
    lines.add("GET /healthz 200 0.1 ms", {}, True, False)
    assert stream.getvalue().count("\n") == access_lines.MAX_LINES
    lines.add("GET /api/v1/articles 503 9.0 ms", {}, True, server_error=True)
    assert stream.getvalue().splitlines()[-1].endswith("bantin.access: GET /api/v1/articles 503 9.0 ms")


def test_nothing_below_the_level(stream: io.StringIO) -> None:
    configure(stream, "json", "WARNING")
    lines = access_lines.for_this_process()
    assert lines is not None
    lines.add("GET /healthz 200 0.1 ms", {}, True, False)
    lines.flush()
    assert stream.getvalue() == ""


def test_no_writer_when_another_handler_took_the_root_logger(stream: io.StringIO) -> None:
    configure(stream, "json")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.NullHandler())
    assert access_lines.for_this_process() is None  # the middleware then logs records, as tests capture them


def test_a_closed_stream_loses_the_lines_not_the_request(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = writer(stream, "json")
    stream.close()
    monkeypatch.setattr(logging, "raiseExceptions", False)  # as in production: the error is not printed
    lines.add("GET /api/v1/articles 503 9.0 ms", {}, True, server_error=True)  # flushes at once, and does not raise


def test_a_line_that_cannot_be_written_does_not_fail_the_request(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = writer(stream, "json")
    monkeypatch.setattr(logging, "raiseExceptions", False)
    lines.add("GET /healthz 200 0.1 ms", {"route": object()}, True, False)  # json.dumps refuses it
    lines.flush()
    assert stream.getvalue() == ""


def test_a_failing_flush_does_not_stop_the_others_or_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    from service.observability import tally

    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise OSError("disk full")

    async def run() -> None:
        loop = asyncio.create_task(tally.flush_every(0.01, also=broken))
        await asyncio.sleep(0.1)
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)

    asyncio.run(run())
    assert calls.count("broken") >= 3  # went on after failing, and ran once more at the end
    assert "flushing" in caplog.text
