"""Owner-only files and directories for what Bantin keeps on disk.

The var directory holds the SQLite database (webhook secrets, token hashes, subscriber
addresses), the embedded Redis socket (the broker: whoever reaches it can run tasks),
beat's schedule and, outside production, the generated ``secret_key``. Nothing there is
for other users of the machine: the directory is 0700 and the files 0600, whatever the
umask, and looser modes left by an older version are tightened at start.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700, or tighten it to owner-only."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIRECTORY)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if it is missing (no moment with a looser mode), or tighten it.

    SQLite gives its -wal and -shm files the mode of the database file.
    """
    private_directory(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        _tighten(path, PRIVATE_FILE)
    return path


def private_secret(path: Path) -> str:
    """The secret kept in ``path``, made on first use as Django's ``startproject`` does: 48
    random bytes (``secrets``, the OS's CSPRNG), URL-safe base64, 64 characters; the file is 0600.

    Any number of processes may start at once and all read one secret: each writes its own
    candidate to a private temporary file and hard-links it into place, which fails when
    another got there first; then that one is read. The file is never seen half-written.
    """
    private_directory(path.parent)
    if not path.exists():
        descriptor, candidate = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # 0600
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(candidate, path)
                log.warning("no BANTIN_SECRET_KEY: generated one in %s (keep it; links already sent need it)", path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            os.unlink(candidate)
    _tighten(path, PRIVATE_FILE)
    return path.read_text(encoding="ascii").strip()


def _tighten(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        path.chmod(current & mode)
        log.warning("%s was readable by others (mode %o); now %o", path, current, current & mode)
