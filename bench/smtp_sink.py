"""A minimal aiosmtpd server for benchmarks: accepts every message, counts them, keeps none.

    python -m bench.smtp_sink --port 2525

Prints "ready", then the count on SIGTERM. Its own process, so that it shares no GIL
with the sender being measured.
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Count the message and accept it (250)."""
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=parser.parse_args().port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    print(counter.count, flush=True)


if __name__ == "__main__":
    main()
