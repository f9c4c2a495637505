"""Fan-out throughput: one publish to 5,000 webhook subscriptions.

Starts the real API, one Celery worker (BANTIN_WORKER_CONCURRENCY processes) and beat
on PostgreSQL and Redis, and a local asyncio receiver (its own process) answering 204.
Prints deliveries/s from the POST returning to the last delivery recorded as
delivered, the workers' peak memory, and — in the same run — the ceiling: the same
receiver driven by a bare aiohttp client with 64 connections and the same payload.

    python -m bench.fanout [--subscribers 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import aiohttp
import httpx
import redis
from sqlalchemy import create_engine, insert, text

from service.channels.webhook import new_secret
from service.db.models import Subscription
from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.stack import REPO, Stack, free_port, wait_until

BENCH_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/14"
CEILING_CONNECTIONS = 64


def start_receiver(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", "--port", str(port)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def add_subscriptions(database_url: str, port: int, count: int) -> None:
    engine = create_engine(database_url)
    rows = [
        {
            "channel": "webhook",
            "target": f"http://127.0.0.1:{port}/hooks/{n}",
            "events": [],
            "categories": [],
            "locale": "vi",
            "options": {},
            "status": "active",
            "secret": new_secret(),
            "unsubscribe_token": secrets.token_urlsafe(32),
        }
        for n in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Subscription), rows)
    engine.dispose()


class DeliveredCounter:
    """One open connection, so that polling costs the machine as little as possible."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def __call__(self) -> int:
        query = text("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
        return int(self.connection.execute(query).scalar_one())

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


class MemoryWatch(threading.Thread):
    """Peak summed RSS of a process and its children, read from /proc every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _tree_rss(self.pid))
            time.sleep(0.05)


def _tree_rss(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]
    total = 0
    for member in pids:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except FileNotFoundError:
            pass
    return total


async def bare_client(port: int, count: int, body: bytes) -> float:
    connector = aiohttp.TCPConnector(limit=CEILING_CONNECTIONS)
    gate = asyncio.Semaphore(CEILING_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            async with (
                gate,
                session.post(
                    f"http://127.0.0.1:{port}/hooks/{n}", data=body, headers={"Content-Type": "application/json"}
                ) as response,
            ):
                assert response.status == 204

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, help="BANTIN_DELIVERY_BATCH_SIZE for the worker (default: its own)")
    parser.add_argument("--processes", type=int, help="BANTIN_WORKER_CONCURRENCY (default: its own, 2)")
    args = parser.parse_args()
    count = args.subscribers

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    database_url = create_database(name)
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    port = free_port()
    receiver = start_receiver(port)
    stack = Stack(
        database_url,
        BENCH_REDIS_URL,
        Path(tempfile.mkdtemp(prefix="bantin-fanout-")),
        BANTIN_EGRESS_ALLOW="127.0.0.1/32",
        BANTIN_LOG_LEVEL="INFO",
        **({"BANTIN_DELIVERY_BATCH_SIZE": str(args.batch_size)} if args.batch_size else {}),
        **({"BANTIN_WORKER_CONCURRENCY": str(args.processes)} if args.processes else {}),
    )
    try:
        stack.start_all()
        add_subscriptions(database_url, port, count)
        token = stack.create_token("publish")
        watch = MemoryWatch(stack.processes["worker"].pid)
        watch.start()
        response = httpx.post(
            f"{stack.base_url}/api/v1/articles",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam",
                "summary": "Tóm tắt",
                "body_html": "<p>Nội dung</p>",
            },
        )
        returned = time.perf_counter()
        assert response.status_code == 201, response.text
        # Polled every 100 ms on one connection: the count itself costs CPU the fan-out needs.
        counter = DeliveredCounter(database_url)
        wait_until(lambda: counter() >= count, 300, "every delivery", 0.1)
        counter.close()
        elapsed = time.perf_counter() - returned
        watch.running = False
        watch.join()
    finally:
        stack.stop_all()
    payload = _sample_payload()
    ceiling = asyncio.run(bare_client(port, count, payload))
    receiver.terminate()
    receiver.wait()
    drop_database(name)

    rate, ceiling_rate = count / elapsed, count / ceiling
    processes = stack.env.get("BANTIN_WORKER_CONCURRENCY", "2")
    batch = stack.env.get("BANTIN_DELIVERY_BATCH_SIZE", "default")
    print(f"fan-out: 1 publish → {count} webhook subscriptions, 1 worker × {processes} processes, batch {batch}")
    print(f"  POST returned → last delivery recorded delivered: {elapsed:.2f} s = {rate:,.0f} deliveries/s")
    print("  (goal ≥ 3,000 deliveries/s)")
    print(f"  peak worker memory (main + pool): {watch.peak / 2**20:.0f} MiB")
    print(f"ceiling, same run: bare aiohttp client, {CEILING_CONNECTIONS} connections, same payload")
    print(f"  {count} posts in {ceiling:.2f} s = {ceiling_rate:,.0f} posts/s")
    print(f"  Bantin / ceiling = {rate / ceiling_rate:.2f} (goal ≥ 0.5)")


def _sample_payload() -> bytes:
    # The size and shape of the webhook body the service sent.
    from service.channels.messages import OutboundMessage
    from service.channels.webhook import webhook_body

    message = OutboundMessage(
        delivery_id="msg_" + "0" * 32,
        subscription_id=1,
        channel="webhook",
        target="",
        options={},
        locale="vi",
        event_type="article.published",
        created_at=time.time(),
        payload={
            "article": {
                "id": 1,
                "guid": f"urn:uuid:{uuid.uuid4()}",
                "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam",
                "summary": "Tóm tắt",
                "url": "http://127.0.0.1:8000/articles/1/ky-niem-97-nam",
                "author": None,
                "categories": [],
                "published_at": "2026-11-27T00:00:00+00:00",
                "updated_at": "2026-11-27T00:00:00+00:00",
                "image_url": None,
            },
            "links": {"feed": "http://127.0.0.1:8000/feeds/atom.xml"},
        },
    )
    return webhook_body(message)


if __name__ == "__main__":
    main()
