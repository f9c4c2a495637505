"""A minimal aiosmtpd server for benchmarks: accepts every message, counts them, keeps none.

    python -m bench.smtp_sink --port 2525

Prints "ready", then the counts as one JSON line on SIGUSR1 (and starts counting afresh)
and on SIGTERM (then stops). Its own process, so that it shares no GIL with the sender
being measured.

Counted per message: its ``X-Bantin-Delivery`` (the delivery's id, kept by a resend) and
its ``Message-ID``; per recipient, the first message's two and how many messages came
again to a recipient seen before, with another delivery id or another Message-ID than
the first. The JSON: ``count``, ``distinct`` (delivery ids), ``message_ids`` (distinct),
``repeats``, ``changed_id`` (another delivery id), ``changed_message_id``.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
from typing import Any

from aiosmtpd.controller import Controller

HEADER = re.compile(rb"^(X-Bantin-Delivery|Message-ID):[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class Counter:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = self.repeats = self.changed_id = self.changed_message_id = 0
        self.deliveries: set[bytes] = set()
        self.message_ids: set[bytes] = set()
        self.first: dict[str, tuple[bytes, bytes]] = {}

    def counts(self) -> dict[str, int]:
        return {
            "count": self.count,
            "distinct": len(self.deliveries),
            "message_ids": len(self.message_ids),
            "repeats": self.repeats,
            "changed_id": self.changed_id,
            "changed_message_id": self.changed_message_id,
        }

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Count the message and accept it (250)."""
        self.count += 1
        content: bytes = envelope.content
        head = content.split(b"\r\n\r\n", 1)[0]
        found = {name.lower(): value for name, value in HEADER.findall(head)}
        delivery, message_id = found.get(b"x-bantin-delivery", b""), found.get(b"message-id", b"")
        self.deliveries.add(delivery)
        self.message_ids.add(message_id)
        recipient = ",".join(envelope.rcpt_tos)
        first = self.first.get(recipient)
        if first is None:
            self.first[recipient] = (delivery, message_id)
        else:
            self.repeats += 1
            self.changed_id += first[0] != delivery
            self.changed_message_id += first[1] != message_id
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=parser.parse_args().port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def report(*_: object) -> None:
        print(json.dumps(counter.counts()), flush=True)
        counter.reset()

    signal.signal(signal.SIGUSR1, report)
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    print(json.dumps(counter.counts()), flush=True)


if __name__ == "__main__":
    main()
