"""Decode one upload in a process of its own, held to a memory and a time budget (decision 0030).

Parent side, ``decode``: the API process (a thread of its pool, never the event loop)
starts ``python -m service.media.decoder`` with the budget and the declared geometry as
its argument and the file on its stdin, kills it when the time is up, reads at most the
output budget back, and runs one decoder at a time. The child, ``main``, limits its own
address space (RLIMIT_AS) and CPU time (RLIMIT_CPU) before it reads a byte of the file,
then imports Pillow and re-encodes (service.media.reencode). It answers one JSON line —
``{"ok": {"content_type", "extension", "width", "height", "bytes"}}`` followed by the
body, or ``{"refused": <reason>, "detail": …}`` — and exits 0.

Why a fresh process per file rather than a pool: its limits bound exactly this file's
work (a pool worker's heap keeps what earlier files grew it to); a timeout is a kill
(a pool cannot stop a task that is running without breaking the pool); a crash in a C
decoder (libwebp, libjpeg, libpng have all had CVEs) ends only the child; and it is
started with fork + exec, never a bare fork of the threaded API. The price is a new
interpreter and Pillow per upload, about 0.2 s, for a few uploads a day.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from typing import IO

from service.media.geometry import Damaged, Geometry, NotAnImage

# Why the child stopped, when it did not answer with an image.
MEMORY = "memory"  # an allocation failed under its RLIMIT_AS
TIME = "time"  # killed at the deadline, or by its own RLIMIT_CPU
OUTPUT = "output"  # the re-encoded file is larger than the output budget
DAMAGED = "damaged"
NOT_AN_IMAGE = "not_an_image"
CRASHED = "crashed"  # ended without an answer (a signal, an abort in a C library)
# The status line is a few hundred bytes; a longer one is not ours.
STATUS_LIMIT = 4096
READ_SIZE = 65536
# One decoder at a time per API process: the process's memory is its own plus one
# decoder's address-space limit, however many editors upload at once (others wait).
_ONE_AT_A_TIME = threading.BoundedSemaphore(1)


@dataclass(frozen=True)
class CleanImage:
    """An image re-encoded without metadata: the bytes to store, their type and the pixel
    size (after the EXIF orientation is applied)."""

    body: bytes
    content_type: str
    extension: str
    width: int
    height: int


class DecodeFailed(Exception):
    """The decoder gave no image: ``reason`` is one of the constants above, ``detail`` for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def decode(data: bytes, geometry: Geometry, *, memory_bytes: int, seconds: float, output_bytes: int) -> CleanImage:
    """``data`` re-encoded by a decoder process limited to ``memory_bytes`` of address space,
    ``seconds`` of wall-clock (and CPU) time and ``output_bytes`` of result; DecodeFailed.

    OSError when the process cannot be started.
    """
    request = {"geometry": asdict(geometry), "memory_bytes": memory_bytes, "seconds": seconds}
    request["output_bytes"] = output_bytes
    with _ONE_AT_A_TIME, tempfile.TemporaryFile() as source:
        # The file on stdin from disk: no writer thread, nothing to deadlock with the reader.
        source.write(data)
        source.seek(0)
        child = subprocess.Popen(
            [sys.executable, "-m", "service.media.decoder", json.dumps(request)],
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            child.kill()

        timer = threading.Timer(seconds, expire)
        timer.start()
        assert child.stdout is not None
        try:
            answer = _read_at_most(child.stdout, output_bytes + STATUS_LIMIT)
            if answer is None:
                child.kill()
            returncode = child.wait()  # still under the timer: it may hang after closing stdout
        finally:
            timer.cancel()
            if child.poll() is None:  # reading failed
                child.kill()
                child.wait()
            child.stdout.close()
    if expired.is_set() or returncode == -signal.SIGXCPU:
        raise DecodeFailed(TIME, f"after {seconds:g} s")
    if answer is None:
        raise DecodeFailed(OUTPUT, f"more than {output_bytes} bytes")
    return _answered(answer, returncode)


def _read_at_most(stream: IO[bytes], limit: int) -> bytes | None:
    """Everything until end of file, or None as soon as it is more than ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while chunk := os.read(stream.fileno(), READ_SIZE):
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answered(answer: bytes, returncode: int) -> CleanImage:
    line, newline, body = answer.partition(b"\n")
    try:
        status = json.loads(line) if newline and len(line) <= STATUS_LIMIT else None
    except ValueError:
        status = None
    if returncode != 0 or not isinstance(status, dict):
        raise DecodeFailed(CRASHED, f"exit status {returncode}")
    if "refused" in status:
        raise DecodeFailed(str(status["refused"]), str(status.get("detail", "")))
    done = status["ok"]
    if len(body) != done["bytes"]:
        raise DecodeFailed(CRASHED, f"{len(body)} bytes of {done['bytes']}")
    return CleanImage(body, done["content_type"], done["extension"], done["width"], done["height"])


# ---- the child ---------------------------------------------------------------------------------


def _limit_self(memory_bytes: int, seconds: float) -> None:
    # Set by the child on itself, before it reads the file: preexec_fn would run Python
    # between fork and exec of the threaded API, which the subprocess documentation warns
    # may deadlock. The CPU limit is the backstop should the parent die before its timer
    # fires; no core file for SIGXCPU.
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = math.ceil(seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _status(**fields: object) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def main() -> None:
    """The child: decode stdin as the request in argv[1] says; one answer on stdout, exit 0."""
    request = json.loads(sys.argv[1])
    _limit_self(request["memory_bytes"], request["seconds"])
    out = sys.stdout.buffer
    data = sys.stdin.buffer.read()
    try:
        # Imported under the limit: Pillow's own start counts against it too.
        from service.media.reencode import reencode

        image = reencode(data, Geometry(**request["geometry"]))
    except MemoryError:
        answer = _status(refused=MEMORY)
    except NotAnImage as exc:
        answer = _status(refused=NOT_AN_IMAGE, detail=str(exc)[:500])
    except Damaged as exc:
        answer = _status(refused=DAMAGED, detail=str(exc)[:500])
    else:
        if len(image.body) > request["output_bytes"]:
            answer = _status(refused=OUTPUT, detail=f"{len(image.body)} bytes")
        else:
            done = {
                "content_type": image.content_type,
                "extension": image.extension,
                "width": image.width,
                "height": image.height,
                "bytes": len(image.body),
            }
            answer = _status(ok=done) + image.body
    out.write(answer)
    out.flush()


if __name__ == "__main__":
    main()
