"""The development outbox: mail that has no SMTP relay to go to, kept as files to look at.

Django's file e-mail backend and Mailpit are the model: outside production, with
``BANTIN_SMTP_HOST`` unset, every message is written to ``BANTIN_VAR_DIR/outbox`` as the
exact bytes SMTP would have carried (``build_email``), one ``.eml`` file per message, and
the console's outbox page (``/console/outbox``) shows each one rendered. A newcomer who
signs up on a fresh ``make run`` reads the confirmation mail there.

Files are written whole or not at all (a private temporary file renamed into place), so
the page never shows half a message; their names sort by the time they were written.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from config.settings import Settings
from service.private_files import private_directory

# <UTC time to the microsecond>-<delivery id>.eml: sorting the names sorts by time.
_NAME = re.compile(r"[0-9]{8}T[0-9]{12}-[A-Za-z0-9_-]{1,100}\.eml")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# The page lists the newest this many; older files stay on disk until someone removes them.
LISTED = 200


def outbox_dir(settings: Settings) -> Path:
    """Where the outbox's files are: ``BANTIN_VAR_DIR/outbox``."""
    return settings.var_dir / "outbox"


def write(settings: Settings, delivery_id: str, data: bytes, now: datetime | None = None) -> Path:
    """Keep one message's bytes as ``<time>-<delivery id>.eml``, atomically (0600 file, 0700 directory)."""
    directory = private_directory(outbox_dir(settings))
    at = (now or datetime.now(UTC)).astimezone(UTC)
    path = directory / f"{at:%Y%m%dT%H%M%S%f}-{_UNSAFE.sub('_', delivery_id)[:100] or 'message'}.eml"
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".writing-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class OutboxMessage:
    """One kept message as the page shows it: its file name, headers and both parts."""

    name: str
    subject: str
    to: str
    sender: str
    date: datetime | None  # the Date header, aware; None when it is missing or unreadable
    text: str
    html: str
    headers: tuple[tuple[str, str], ...]


def names(settings: Settings, limit: int = LISTED) -> list[str]:
    """The newest ``limit`` messages' file names, newest first (none when there is no outbox yet)."""
    directory = outbox_dir(settings)
    if not directory.is_dir():
        return []
    found = sorted((entry.name for entry in os.scandir(directory) if _NAME.fullmatch(entry.name)), reverse=True)
    return found[:limit]


def read(settings: Settings, name: str) -> OutboxMessage | None:
    """The message kept as ``name``; None for a name that is not an outbox file's (no path
    outside the outbox can be named) or a file that is gone."""
    if not _NAME.fullmatch(name):
        return None
    try:
        data = (outbox_dir(settings) / name).read_bytes()
    except FileNotFoundError:
        return None
    message = message_from_bytes(data, policy=policy.default)
    return OutboxMessage(
        name=name,
        subject=str(message["Subject"] or ""),
        to=str(message["To"] or ""),
        sender=str(message["From"] or ""),
        date=_date(message),
        text=_part(message, "plain"),
        html=_part(message, "html"),
        headers=tuple((key, str(value)) for key, value in message.items()),
    )


def _date(message: EmailMessage) -> datetime | None:
    header = message["Date"]
    found = getattr(header, "datetime", None)
    return found if isinstance(found, datetime) and found.tzinfo is not None else None


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    return str(body.get_content()) if body is not None else ""
