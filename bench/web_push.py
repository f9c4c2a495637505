"""Web Push fan-out (decision 0041) next to the webhook fan-out, in the same run.

    python -m bench.web_push [--subscriptions 100000] [--batch 500] [--port 8109]

The send half of the delivery batches, as a worker process runs it: ``send_all`` (egress
guard, the channel's writing-out, the guarded aiohttp client, classification) on the
worker's event loop (uvloop) and its keep-alive session, in batches of ``--batch``, to
``bench/receiver.py`` in its own process (answers 204, as a push service's 201 would be
classified). No database and no Celery: their share per delivery is the same for both
channels (bench.fanout measures it for webhooks).

For each of N subscriptions, alternating batch by batch so both see the same machine:
- web push: a fresh aes128gcm encryption per subscription (RFC 8291: an ECDH key pair and
  agreement, HKDF, AES-GCM, with ``http_ece``), the VAPID header (signed once per origin
  and batch with ``py_vapid``), TTL, Urgency, Topic; 1,000 distinct browser key pairs
  cycled (the cost does not depend on which);
- webhook: the Standard Webhooks body signed with the subscription's own secret.

Prints deliveries/s (wall time inside ``send_all``) and CPU-seconds per 1,000 deliveries
of this process (``time.process_time``), for both, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import subprocess
import sys
import time
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service.channels.messages import OutboundMessage
from service.channels.web_push import new_vapid_keys
from service.channels.webhook import new_secret
from tests.integration.push_service import b64url
from tests.outbound import outbound

PAYLOAD = {
    "article": {
        "id": 1,
        "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)",
        "summary": "Sáng 3/2, Thành ủy Đà Nẵng long trọng tổ chức lễ kỷ niệm 97 năm Ngày thành lập Đảng.",
        "url": "https://tin.example.vn/articles/1/ky-niem-97-nam",
    },
    "links": {},
}
BROWSERS = 1000


def browser_keys(count: int) -> list[tuple[str, str]]:
    """(p256dh, auth) of ``count`` browsers, base64url, as PushSubscription.toJSON() gives them."""
    keys = []
    for _ in range(count):
        point = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )
        keys.append((b64url(point), b64url(os.urandom(16))))
    return keys


def batch(channel: str, start: int, size: int, port: int, keys: list[tuple[str, str]]) -> list[OutboundMessage]:
    created = time.time()
    messages = []
    for n in range(start, start + size):
        if channel == "web_push":
            p256dh, auth = keys[n % len(keys)]
            message = outbound("article.published", PAYLOAD, channel="web_push",
                               target=f"http://127.0.0.1:{port}/push/{n}", delivery_id=f"msg_{uuid.uuid4().hex}",
                               subscription_id=n, created_at=created, secrets=(auth,), announcement_id=1)  # fmt: skip
            message = dataclasses.replace(message, options={"p256dh": p256dh})
        else:
            message = outbound("article.published", PAYLOAD, target=f"http://127.0.0.1:{port}/hooks/{n}",
                               delivery_id=f"msg_{uuid.uuid4().hex}", subscription_id=n, created_at=created,
                               secrets=(new_secret(),), announcement_id=1)  # fmt: skip
        messages.append(message)
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--port", type=int, default=8109)
    args = parser.parse_args()
    private, public = new_vapid_keys()
    os.environ.setdefault("BANTIN_EGRESS_ALLOW", "127.0.0.1/32")
    os.environ["BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY"] = private
    os.environ["BANTIN_WEB_PUSH_VAPID_PUBLIC_KEY"] = public
    os.environ["BANTIN_WEB_PUSH_SUBJECT"] = "mailto:bench@example.vn"
    from config.settings import get_settings
    from service.channels.http import new_http_session
    from service.deliveries.ratelimit import LocalRateLimiter
    from service.deliveries.sender import _loop_factory, send_all

    settings = get_settings()
    keys = browser_keys(BROWSERS)
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", "--port", str(args.port)], stdout=subprocess.PIPE, text=True
    )
    assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
    wall = {"web_push": 0.0, "webhook": 0.0}
    cpu = {"web_push": 0.0, "webhook": 0.0}
    started_at = time.monotonic()

    async def run() -> None:
        http = new_http_session(settings)
        limiter = LocalRateLimiter()
        try:
            for start in range(0, args.subscriptions, args.batch):
                size = min(args.batch, args.subscriptions - start)
                for channel in ("web_push", "webhook"):
                    messages = batch(channel, start, size, args.port, keys)
                    began, began_cpu = time.perf_counter(), time.process_time()
                    results = await send_all(messages, settings, limiter, http)
                    wall[channel] += time.perf_counter() - began
                    cpu[channel] += time.process_time() - began_cpu
                    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
        finally:
            await http.close()

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run())
    finally:
        receiver.terminate()
        receiver.wait()
    n = args.subscriptions
    print(
        f"fan-out send path: {n:,} subscriptions per channel in batches of {args.batch}, concurrency "
        f"{settings.delivery_concurrency}, {time.monotonic() - started_at:.0f} s in all, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("                                  deliveries/s   CPU-s per 1,000")
    for channel, label in (("web_push", "web push (encrypt, VAPID, post)"), ("webhook", "webhook (sign, post)")):
        print(f"  {label:31s} {n / wall[channel]:12,.0f}   {cpu[channel] / n * 1000:13.3f}")
    print(f"  web push / webhook, CPU per delivery: {cpu['web_push'] / cpu['webhook']:.2f}")


if __name__ == "__main__":
    main()
