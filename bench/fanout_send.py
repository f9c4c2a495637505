"""The send half of a delivery batch alone: CPU per webhook, ours next to a bare client.

    python -m bench.fanout_send [--batch 500] [--rounds 20] [--port 8108]

No database, no Celery: 500 webhook messages (signed, one secret each) sent by
``service.deliveries.sender.send_all`` (egress guard, Standard Webhooks signing, timing,
classification) to ``bench/receiver.py`` in its own process, on the worker's event loop
(uvloop) and its process-wide keep-alive session; alternating, in the same loop, the
reference: a bare aiohttp client posting the same body with the same concurrency. CPU of
this process per 1,000 posts (``time.process_time``), best and median of the rounds, and
the ratio of the two medians. CPU per post is steadier than posts/s on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid

import aiohttp

from bench.fanout_channels import sample_payload as _sample_payload
from service.channels.messages import OutboundMessage
from tests.outbound import outbound


def _messages(count: int, port: int) -> list[OutboundMessage]:
    from service.channels.webhook import new_secret

    created = time.time()
    payload = {"article": {"id": 1, "title": "Kỷ niệm 97 năm Ngày thành lập Đảng"}, "links": {}}
    return [
        outbound(
            "article.published",
            payload,
            delivery_id=f"msg_{uuid.uuid4().hex}",
            subscription_id=n,
            target=f"http://127.0.0.1:{port}/hooks/{n}",
            created_at=created,
            secrets=(new_secret(),),
            announcement_id=1,
        )
        for n in range(count)
    ]


async def _bare(session: aiohttp.ClientSession, port: int, count: int, body: bytes, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with (
            gate,
            session.post(
                f"http://127.0.0.1:{port}/hooks/{n}", data=body, headers={"Content-Type": "application/json"}
            ) as response,
        ):
            await response.read()
            assert response.status == 204

    await asyncio.gather(*(one(n) for n in range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8108)
    args = parser.parse_args()
    os.environ.setdefault("BANTIN_EGRESS_ALLOW", "127.0.0.1/32")
    from config.settings import get_settings
    from service.channels.http import new_http_session
    from service.deliveries.ratelimit import LocalRateLimiter
    from service.deliveries.sender import _loop_factory, send_all

    settings = get_settings()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", "--port", str(args.port)], stdout=subprocess.PIPE, text=True
    )
    assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
    body = _sample_payload()
    ours: list[float] = []
    bare: list[float] = []

    async def run() -> None:
        http = new_http_session(settings)
        reference = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=settings.delivery_concurrency))
        limiter = LocalRateLimiter()
        try:
            for round_ in range(args.rounds + 1):
                messages = _messages(args.batch, args.port)
                started = time.process_time()
                results = await send_all(messages, settings, limiter, http)
                spent = time.process_time() - started
                assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
                started = time.process_time()
                await _bare(reference, args.port, args.batch, body, settings.delivery_concurrency)
                spent_bare = time.process_time() - started
                if round_:  # the first round opens the connections
                    ours.append(spent / args.batch * 1000)
                    bare.append(spent_bare / args.batch * 1000)
        finally:
            await http.close()
            await reference.close()

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run())
    finally:
        receiver.terminate()
        receiver.wait()
    print(
        f"send path alone: {args.rounds} rounds of {args.batch} webhooks, concurrency {settings.delivery_concurrency}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("  CPU-seconds per 1,000 posts (this process)   best    median")
    print(f"  ours (send_all: guard, sign, post, classify) {min(ours):6.3f}  {statistics.median(ours):6.3f}")
    print(f"  reference: bare aiohttp post, same body      {min(bare):6.3f}  {statistics.median(bare):6.3f}")
    print(f"  ours / reference (medians): {statistics.median(ours) / statistics.median(bare):.2f}")


if __name__ == "__main__":
    main()
