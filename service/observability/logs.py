"""Logging for every role: one JSON object per line (or plain text), context fields, no secrets.

Each record carries ``timestamp``, ``level``, ``role``, ``logger`` and ``message``, plus
whichever of :data:`CONTEXT_FIELDS` apply: bound for the duration of a request or a
task (:func:`bound`), or passed per call as ``extra={"event_id": 42}``. A request's
``client`` is the address ``service.web.client`` decided (decision 0028), never a header.

Nothing secret reaches a log line: the final text of every record (message, arguments,
traceback) is passed through :func:`redact`, which masks the secrets Bantin knows from
its settings, its own token formats, the Telegram bot-token URL form, bearer
credentials, URL user-info, the path and query of every URL (chat webhooks such as
Slack's carry their secret in the path, and any subscriber's URL may), the mailbox
part of every e-mail address and every number of 16 to 32 digits (a reader's address and
a Zalo follower's id are personal data).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, TextIO

from pythonjsonlogger.json import JsonFormatter

from config.settings import Settings

CONTEXT_FIELDS = (
    "request_id",
    "client",
    "task_id",
    "task_name",
    "article_id",
    "event_id",
    "delivery_id",
    "subscription_id",
)
_context: ContextVar[dict[str, Any] | None] = ContextVar("bantin_log_context", default=None)
# On a record (``extra={VETTED: True}``): its message, arguments and extra fields are known to
# hold no secret (the API's access line: method, route template, status, duration, a vetted
# request id, the client's address), so it is written without the redactor's scans and, in
# JSON, without the library's generic field merging — the same line, in a fraction of the
# time (decision 0046). A record with a traceback is never treated so.
VETTED = "_vetted"
MASK = "***"
# Secrets shorter than this are not masked by value: masking "1" would shred every line.
MIN_SECRET_LENGTH = 6

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Our API tokens and Standard Webhooks secrets (service/auth/tokens.py, channels/webhook.py).
    (re.compile(r"btn_[A-Za-z0-9_\-]{8,}"), "btn_" + MASK),
    (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), "whsec_" + MASK),
    # Telegram puts the bot token in the path: /bot<id>:<secret>/sendMessage.
    (re.compile(r"bot\d+:[A-Za-z0-9_\-]+"), "bot" + MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 " + MASK),
    # URL: keep scheme and host (which receiver), drop user-info, path and query.
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)(?:[^\s/@'\"<>]*@)?([^\s/?#'\"<>]+)[/?#][^\s'\"<>]*"),
        r"\1\2/" + MASK,
    ),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@'\"<>]*@"), r"\1" + MASK + "@"),
    # A reader's e-mail address (an SMTP refusal quotes it): personal data, never logged.
    # The domain stays, to tell which provider refused.
    (re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"), MASK + r"@\1"),
    # A Zalo follower's id (18-19 digits; a driver error's parameters would quote it):
    # personal data. Nothing else we log is a number that long (millisecond times have 13).
    (re.compile(r"(?<![\w.])\d{16,32}(?![\w.])"), MASK),
)
# Text every pattern above needs somewhere in a match: a line without any of these is left
# as it is after one scan, instead of one per pattern (most lines, access lines included;
# decision 0046). tests/unit/test_logs.py checks it against every pattern's examples.
_MAY_NEED_MASKING = re.compile(r"btn_|whsec_|bot\d|(?i:bearer|basic)\s|://|@|\d{16}")


class Redactor:
    """Masks known secret values and secret-shaped text in a finished log line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if _MAY_NEED_MASKING.search(text) is None:
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


_configured = Redactor()


def needs_no_masking(text: str) -> bool:
    """True when the configured redactor (the settings' secrets and every pattern) leaves
    ``text`` as it is: such text may go on a :data:`VETTED` record."""
    return _configured(text) == text


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secrets masked (see the module docstring for what counts)."""
    return Redactor(secrets)(text)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add context fields (e.g. ``request_id``) to every record logged inside the block."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def bind(**fields: Any) -> Token[dict[str, Any] | None]:
    """Like :func:`bound`, for code that cannot use a ``with`` block (Celery signals)."""
    current = _context.get() or {}
    return _context.set({**current, **{k: v for k, v in fields.items() if v is not None}})


def unbind(token: Token[dict[str, Any] | None]) -> None:
    """Restore the context as it was before the ``bind`` that returned ``token``."""
    _context.reset(token)


def context() -> dict[str, Any]:
    """The fields bound now (a copy)."""
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    """Puts the bound context fields and the role on each record (``extra=`` wins)."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the role and the bound fields to the record; keeps every record."""
        record.role = self.role
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class _JsonFormatter(JsonFormatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__(
            "{levelname}{role}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
            json_ensure_ascii=False,
        )
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, VETTED, False) and record.exc_info is None:
            return self._vetted(record)
        return self.redactor(super().format(record))

    def _vetted(self, record: logging.LogRecord) -> str:
        """The line ``JsonFormatter.format`` writes for ``record`` (tests/unit/test_logs.py
        compares them): the required fields, the extra ones, the timestamp."""
        skip = self._skip_fields
        fields = {k: v for k, v in record.__dict__.items() if k not in skip and not k.startswith("_")}
        role = getattr(record, "role", None)
        return self.line(record.name, record.levelname, role, record.getMessage(), fields, record.created)

    def line(
        self, logger: str, level: str, role: str | None, message: str, fields: dict[str, Any], created: float
    ) -> str:
        """One unredacted line from its parts (``fields``: the extra and context fields, in
        order; ``created``: seconds since the epoch), as :meth:`format` writes a record."""
        document: dict[str, Any] = {"level": level, "role": role, "logger": logger, "message": message}
        for key, value in fields.items():
            document.setdefault(key, value)
        document["timestamp"] = datetime.fromtimestamp(created, tz=UTC).isoformat()
        return json.dumps(document, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(role)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if hasattr(record, k))
        line = f"{line} [{extras}]" if extras else line
        return line if getattr(record, VETTED, False) and record.exc_info is None else self.redactor(line)

    def line(
        self, logger: str, level: str, role: str | None, message: str, fields: dict[str, Any], created: float
    ) -> str:
        """One unredacted line from its parts, as :meth:`format` writes a record made at
        ``created`` with ``fields`` set on it (tests/unit/test_logs.py compares them)."""
        # logging.LogRecord's own milliseconds (Python 3.11) and Formatter.formatTime's shape.
        msecs = int((created - int(created)) * 1000)
        stamp = f"{time.strftime(self.default_time_format, self.converter(created))},{msecs:03d}"
        line = f"{stamp} {level} {role} {logger}: {message}"
        extras = " ".join(f"{k}={fields[k]}" for k in CONTEXT_FIELDS if k in fields)
        return f"{line} [{extras}]" if extras else line


class Installed(NamedTuple):
    """What :func:`configure` put on the root logger: its handler, the role, the redactor."""

    handler: logging.StreamHandler[TextIO]
    role: str
    redactor: Redactor

    @property
    def formatter(self) -> _JsonFormatter | _TextFormatter:
        """The handler's formatter (one of ours: :func:`configure` set it)."""
        formatter = self.handler.formatter
        assert isinstance(formatter, _JsonFormatter | _TextFormatter)
        return formatter


_installed: Installed | None = None


def installed() -> Installed | None:
    """What :func:`configure` installed, while its handler is still the root logger's (a
    test's capture or another configuration may have replaced it since)."""
    if _installed is not None and _installed.handler in logging.getLogger().handlers:
        return _installed
    return None


def configure(
    role: str, fmt: Literal["json", "text"], level: str = "INFO", secrets: Iterable[str] = ()
) -> logging.Handler:
    """One handler on the root logger, to stderr; every other logger propagates to it.

    Uvicorn's and Celery's loggers lose their own handlers so their lines are formatted
    (and redacted) like ours; uvicorn's access line is off (the API writes its own).
    Returns the handler (tests read its formatter).
    """
    global _configured
    redactor = _configured = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter(redactor) if fmt == "json" else _TextFormatter(redactor))
    handler.addFilter(ContextFilter(role))
    global _installed
    _installed = Installed(handler, role, redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Neither format names the caller's file, line, thread or process: not looking them up
    # saves each record a frame walk (Python's Logging HOWTO, "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # Python warnings (Celery's "running as root", deprecations) become records too,
    # instead of raw multi-line text on stderr.
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error", "celery", "celery.task", "celery.redirected"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Uvicorn's own access line names the raw path (an unsubscribe token, a reader's manage
    # link): the API writes its own, with route templates (decisions 0046, 0050). Uvicorn
    # writes its line whenever ``uvicorn.access`` has a handler to reach, so it must reach
    # none — here too, because a ``--workers N`` child configures logging after uvicorn has
    # turned its access line off, and propagating to the root logger turned it back on.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    return handler


def configure_from_settings(role: str, settings: Settings) -> logging.Handler:
    """:func:`configure` with BANTIN_LOG_FORMAT, BANTIN_LOG_LEVEL and the secrets the settings hold."""
    held = (
        settings.secret_key,
        settings.telegram_bot_token,
        settings.smtp_password,
        settings.zalo_access_token,
        settings.zalo_oa_secret_key,
    )
    secrets = [secret.get_secret_value() for secret in held]
    return configure(role, settings.effective_log_format, settings.log_level, secrets)
