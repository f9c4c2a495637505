"""The API's access lines, made without a log record and written in blocks (decision 0050).

An access line through the logging module cost more than the cached answer it describes
(``bench.http_inprocess --profile feed-304``: a ``LogRecord``, the context filter, the
formatter walking the record's attributes, then a write and a flush of stderr per line).
:class:`AccessLines` makes the same line from its parts with the configured formatter's
:meth:`line` (the text is identical: tests/unit/test_access_lines.py compares it with the
handler's output for the same record) and keeps it in memory; the lines reach the
handler's stream in one write per :data:`FLUSH_SECONDS` (the API's flush loop), when
:data:`MAX_LINES` are waiting, after a server error's line, and at shutdown.

Consequences: an access line reaches the log up to a second after the request ended (its
``timestamp`` is the request's), so it may follow lines logged later; a process killed
with SIGKILL loses at most its last second of access lines (as of its metrics, decision 0046).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from service.observability.logs import Installed, context, installed

# A block of this many lines is written at once, without waiting for the interval.
MAX_LINES = 512
LOGGER = "bantin.access"


class AccessLines:
    """Access lines for one process's handler, buffered (see the module docstring)."""

    def __init__(self, logging_setup: Installed) -> None:
        self.handler = logging_setup.handler
        self.role = logging_setup.role
        self.redactor = logging_setup.redactor
        self.formatter = logging_setup.formatter
        self.logger = logging.getLogger(LOGGER)
        self._lines: list[str] = []
        self._lock = threading.Lock()
        # Seconds since the epoch, as a log record's ``created`` (tests fix it).
        self.clock = time.time

    def add(self, message: str, fields: dict[str, Any], vetted: bool, server_error: bool) -> None:
        """Keep one INFO line (``fields``: method, route, status, duration_ms and any ids
        from the path; the bound context is added as the handler's filter would). An
        unvetted line goes through the redactor as every other log line does."""
        if self.logger.disabled or not self.logger.isEnabledFor(logging.INFO) or self.handler.level > logging.INFO:
            return
        for key, value in context().items():
            fields.setdefault(key, value)
        try:
            line = self.formatter.line(LOGGER, "INFO", self.role, message, fields, self.clock())
        except Exception:  # noqa: BLE001 - as logging.Handler.emit: a log line never fails a request
            self.handler.handleError(logging.makeLogRecord({"name": LOGGER, "msg": message}))
            return
        with self._lock:
            self._lines.append(line if vetted else self.redactor(line))
            full = len(self._lines) >= MAX_LINES
        if full or server_error:
            self.flush()

    def flush(self) -> None:
        """Write the waiting lines to the handler's stream in one write (under the handler's
        lock, so they never cut into another thread's line)."""
        with self._lock:
            lines, self._lines = self._lines, []
        if not lines:
            return
        terminator = self.handler.terminator
        block = terminator.join(lines) + terminator
        self.handler.acquire()
        try:
            self.handler.stream.write(block)
            self.handler.flush()
        except Exception:  # noqa: BLE001 - as logging.Handler.emit: writing a log never fails a request
            report = logging.makeLogRecord({"name": LOGGER, "msg": "%d access lines lost", "args": (len(lines),)})
            self.handler.handleError(report)
        finally:
            self.handler.release()


# Weakly: a writer lives as long as the application whose middleware holds it.
_writers: weakref.WeakSet[AccessLines] = weakref.WeakSet()


def for_this_process() -> AccessLines | None:
    """A writer for the logging :func:`service.observability.logs.configure` set up, or
    None when another is in place (a test's capture, a host application's): then access
    lines are ordinary ``bantin.access`` records."""
    setup = installed()
    if setup is None:
        return None
    writer = AccessLines(setup)
    _writers.add(writer)
    return writer


def flush() -> None:
    """Write every writer's waiting lines (the API's flush loop calls it every second)."""
    for writer in list(_writers):
        writer.flush()
