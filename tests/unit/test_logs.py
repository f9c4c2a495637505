"""One JSON object per line with role and context; Celery's and uvicorn's loggers included; no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from config.settings import Settings
from service.observability import logs

SLACK_URL = "https://hooks.slack.com/services/T0001/B0002/Xsecretpathpart"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger as configured by :func:`logs.configure`, writing to a buffer; restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def configure(stream: io.StringIO, fmt: str, secrets: tuple[str, ...] = ()) -> None:
    handler = logs.configure("worker", fmt, "INFO", secrets)  # type: ignore[arg-type]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_role_logger_level_and_bound_context(captured: io.StringIO) -> None:
    configure(captured, "json")
    with logs.bound(task_id="t-1", task_name="events.dispatch", event_id=42):
        logging.getLogger("service.events.handlers").info("event %s re-rendered", 42)
        logging.getLogger("celery.app.trace").warning("Task %s succeeded", "t-1", extra={"event_id": 7})
    logging.getLogger("uvicorn.error").info("Started server process [1]")
    first, second, third = lines(captured)
    assert first["level"] == "INFO" and first["role"] == "worker" and first["logger"] == "service.events.handlers"
    assert first["message"] == "event 42 re-rendered"
    assert (first["task_id"], first["task_name"], first["event_id"]) == ("t-1", "events.dispatch", 42)
    assert str(first["timestamp"]).endswith("+00:00")
    assert second["logger"] == "celery.app.trace" and second["event_id"] == 7  # extra= wins over context
    assert third["logger"] == "uvicorn.error" and "task_id" not in third  # the block ended


def test_exceptions_stay_on_one_line_and_are_redacted(captured: io.StringIO) -> None:
    configure(captured, "json", secrets=("hunter2-smtp-password",))
    try:
        raise RuntimeError(f"login failed with hunter2-smtp-password posting to {SLACK_URL}")
    except RuntimeError:
        logging.getLogger("service.deliveries.sender").exception("delivery %s failed", "d-1")
    [line] = captured.getvalue().splitlines()
    record = json.loads(line)
    assert "RuntimeError" in str(record["exc_info"])
    assert "hunter2" not in line and "Xsecretpathpart" not in line and "hooks.slack.com/***" in line


def test_text_format_names_role_and_context(captured: io.StringIO) -> None:
    configure(captured, "text")
    with logs.bound(request_id="r-9"):
        logging.getLogger("bantin.access").info("GET /feeds/{filename} 200")
    [line] = captured.getvalue().splitlines()
    assert " INFO worker bantin.access: GET /feeds/{filename} 200 [request_id=r-9]" in line


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer btn_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "btn_AbCdEfGh"),
        ("secret whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "QUJDREVGR0"),
        ("POST https://api.telegram.org/bot123456:AAH-secretTokenPart/sendMessage", "AAH-secretTokenPart"),
        ("POST " + SLACK_URL, "Xsecretpathpart"),
        ("https://discord.com/api/webhooks/1234/tokenpart-xyz?wait=true", "tokenpart-xyz"),
        ("amqp://bantin:rabbit-password@rabbit:5672//", "rabbit-password"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ],
)
def test_secret_shapes_are_masked(text: str, secret: str) -> None:
    masked = logs.redact(text)
    assert secret not in masked and logs.MASK in masked


def test_known_secret_values_are_masked_wherever_they_appear() -> None:
    assert logs.redact("password was s3cr3t-value!", ["s3cr3t-value"]) == "password was ***!"
    # Too short to mask by value without shredding ordinary text.
    assert logs.redact("id 12345", ["12345"]) == "id 12345"


def test_hosts_and_plain_text_are_kept() -> None:
    line = "Bantin is up on http://127.0.0.1:8000 (feeds at /feeds/atom.xml)"
    assert logs.redact(line) == line


def test_json_is_the_production_default_and_text_elsewhere() -> None:
    secret = "x" * 40
    assert Settings(environment="production", secret_key=secret).effective_log_format == "json"
    assert Settings(environment="development").effective_log_format == "text"
    assert Settings(environment="production", secret_key=secret, log_format="text").effective_log_format == "text"


def test_a_readers_address_is_masked_but_its_domain_kept() -> None:
    line = "subscription 7 disabled: recipient refused: {'Ban.Doc+tin@gmail.com': (550, b'5.1.1 unknown')}"
    masked = logs.redact(line)
    assert "Ban.Doc" not in masked and "***@gmail.com" in masked
    assert logs.redact("mailto:ban.doc@example.vn") == "mailto:***@example.vn"


def _vetted_record() -> logging.LogRecord:
    record = logging.LogRecord(
        "bantin.access", logging.INFO, "", 0, "%s %s %d %.1f ms", ("GET", "/healthz", 200, 0.4), None
    )
    for key, value in {"method": "GET", "route": "/healthz", "status": 200, "duration_ms": 0.4}.items():
        setattr(record, key, value)
    record.role, record.request_id, record.client = "api", "r-1", "10.0.0.9"
    return record


def test_a_vetted_json_line_is_the_librarys_line(captured: io.StringIO) -> None:
    handler = logs.configure("api", "json", "INFO")
    record = _vetted_record()
    plain = handler.format(record)
    setattr(record, logs.VETTED, True)
    assert handler.format(record) == plain  # byte for byte, the fast path included


def test_a_vetted_text_line_is_the_same_line(captured: io.StringIO) -> None:
    handler = logs.configure("api", "text", "INFO")
    record = _vetted_record()
    plain = handler.format(record)
    setattr(record, logs.VETTED, True)
    assert handler.format(record) == plain


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer btn_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "secret whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
        "POST https://api.telegram.org/bot123456:AAH-secretTokenPart/sendMessage",
        "a bot9:AAH-x and BASIC dXNlcjpwYXNzd29yZA== and bearer\tabc",
        "POST " + SLACK_URL,
        "amqp://bantin:rabbit-password@rabbit:5672//",
        "recipient Ban.Doc+tin@gmail.com refused",
        "follower 1234567890123456789 blocked; order 123456789012345 kept",
        "follower ١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧ (Arabic-Indic digits)",
        "GET /feeds/{filename} 304 0.3 ms",
        "Bantin is up on http://127.0.0.1:8000 (feeds at /feeds/atom.xml)",
    ],
)
def test_the_quick_check_never_skips_what_a_pattern_would_mask(text: str) -> None:
    every_pattern = text
    for pattern, replacement in logs._PATTERNS:
        every_pattern = pattern.sub(replacement, every_pattern)
    assert logs.redact(text) == every_pattern
    if every_pattern != text:
        assert logs._MAY_NEED_MASKING.search(text)


def test_uvicorns_access_line_stays_off_however_logging_is_configured(captured: io.StringIO) -> None:
    """Uvicorn writes its access line (the raw path) when ``uvicorn.access`` has a handler to
    reach; a ``--workers N`` child configures logging after uvicorn turned it off."""
    access = logging.getLogger("uvicorn.access")
    access.propagate = True  # as uvicorn leaves it when asked for its access log
    configure(captured, "json")
    assert not access.hasHandlers()
    assert logging.getLogger("uvicorn.error").hasHandlers()  # its errors still reach our log
