"""Owner-only files and directories for what Bantin keeps on disk.

The var directory holds the SQLite database (webhook secrets, token hashes, subscriber
addresses), the embedded Redis socket (the broker: whoever reaches it can run tasks) and
beat's schedule. Nothing there is for other users of the machine: the directory is 0700
and the database 0600, whatever the umask, and looser modes left by an older version are
tightened at start.
"""

from __future__ import annotations

import logging
import os
import stat
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


def _tighten(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        path.chmod(current & mode)
        log.warning("%s was readable by others (mode %o); now %o", path, current, current & mode)
