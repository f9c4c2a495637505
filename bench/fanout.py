"""Fan-out throughput: one publish to 5,000 webhook subscriptions.

Starts the real API, one Celery worker (BANTIN_WORKER_CONCURRENCY processes) and beat
on PostgreSQL and Redis, and a local asyncio receiver (its own process) answering 204.
Prints deliveries/s from the POST returning to the last delivery recorded as
delivered, the workers' peak memory, the CPU-seconds per 1,000 deliveries of the
worker processes and of the PostgreSQL backends serving the bench database (from
/proc), and — in the same run, before and after the fan-out — the ceiling: the same
receiver driven by a bare aiohttp client with 64 connections and the same payload.

    python -m bench.fanout [--subscribers 5000] [--processes 1|2] [--split-queues]

``--split-queues`` runs two workers, as a larger deployment would: one serving only
``deliveries`` (``--processes`` processes) and one serving ``events,maintenance`` (one
process); the figures are then given per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from functools import partial
from pathlib import Path

import aiohttp
import httpx
import redis
from sqlalchemy import create_engine, insert, text

from config.settings import Settings
from service.channels.webhook import new_secret
from service.db.models import Subscription
from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.stack import REPO, Stack, free_port, wait_until

# Flushed at the start: a database of its own (BANTIN_BENCH_REDIS_URL when several run side by side).
BENCH_REDIS_URL = os.environ.get("BANTIN_BENCH_REDIS_URL") or REDIS_URL.rsplit("/", 1)[0] + "/14"
CEILING_CONNECTIONS = 64


def start_receiver(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", "--port", str(port)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def add_subscriptions(database_url: str, port: int, count: int) -> None:
    """``count`` webhook subscriptions, inserted 10,000 at a time (100,000 fit in memory either way)."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for start in range(0, count, SUBSCRIPTION_CHUNK):
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
                for n in range(start, min(count, start + SUBSCRIPTION_CHUNK))
            ]
            connection.execute(insert(Subscription), rows)
        connection.execute(text("ANALYZE subscriptions"))
    engine.dispose()


SUBSCRIPTION_CHUNK = 10_000


class DeliveredCounter:
    """One open connection, so that polling costs the machine as little as possible."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.backend_pid = int(self.connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def __call__(self) -> int:
        query = text("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
        return int(self.connection.execute(query).scalar_one())

    def wait_for(self, count: int, near: int, timeout: float = 600) -> float:
        """perf_counter() when ``count`` rows were first seen delivered.

        Polled every 100 ms while more than ``near`` rows are left (a count costs CPU the
        fan-out needs), then every 5 ms: the end is then known to 5 ms, not to the 100 ms
        that a fixed interval adds to a run of about a second.
        """
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            done = self()
            now = time.perf_counter()
            if done >= count:
                return now
            time.sleep(0.005 if count - done <= near else 0.1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {count} deliveries")

    def timeline(self, returned_at: float) -> dict[str, float]:
        """Seconds from the POST returning (wall clock ``returned_at``) to what the database
        records: the start of the render (``handled_at`` is the dispatch task's start), the
        start of the announcement's planning (the deliveries' ``created_at``), and the first
        and last batch recorded (an attempt's time is when its batch's sends ended)."""
        row = self.connection.execute(
            text("""
            SELECT (SELECT min(handled_at) FROM outbox_events),
                   (SELECT min(created_at) FROM deliveries),
                   (SELECT min(attempted_at) FROM delivery_attempts),
                   (SELECT max(attempted_at) FROM delivery_attempts)
            """)
        ).one()
        names = ("render began", "planning began", "first batch sent", "last batch sent")
        return {name: value.timestamp() - returned_at for name, value in zip(names, row, strict=True) if value}

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


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [pid, *(int(p) for p in children.read_text().split())]
    except FileNotFoundError:
        return [pid]


def _tree_rss(pid: int) -> int:
    total = 0
    for member in _tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except FileNotFoundError:
            pass
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (/proc/PID/stat fields 14 and 15); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuWatch(threading.Thread):
    """CPU-seconds spent during the run by process groups: each worker's tree, the
    PostgreSQL backends of the bench database (found in pg_stat_activity as they come),
    the receiver, the API and beat. Read every 100 ms, so a backend that ends mid-run
    loses at most its last 100 ms."""

    def __init__(self, roots: dict[str, int], database_url: str, exclude_backend: int) -> None:
        super().__init__(daemon=True)
        self.roots, self.running = roots, True
        self.engine = create_engine(database_url)
        self.exclude = exclude_backend
        self.start_cpu: dict[int, float] = {}
        self.last_cpu: dict[int, tuple[str, float]] = {}
        self._sample(first=True)

    def _backends(self) -> list[int]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            )
            return [int(pid) for (pid,) in rows if pid != self.exclude]

    def _sample(self, first: bool = False) -> None:
        members = [(role, pid) for role, root in self.roots.items() for pid in _tree(root)]
        members += [("postgresql", pid) for pid in self._backends()]
        for role, pid in members:
            used = cpu_seconds(pid)
            if used == 0.0:
                continue
            if pid not in self.start_cpu:
                self.start_cpu[pid] = used if first else 0.0
            self.last_cpu[pid] = (role, used)

    def run(self) -> None:
        while self.running:
            time.sleep(0.1)
            self._sample()

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU-seconds per role since the watch was made."""
        self.running = False
        self.join()
        self._sample()
        self.engine.dispose()
        spent: dict[str, float] = {}
        for pid, (role, used) in self.last_cpu.items():
            spent[role] = spent.get(role, 0.0) + used - self.start_cpu[pid]
        return spent


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
    parser.add_argument(
        "--split-queues", action="store_true", help="one worker for deliveries, another for events,maintenance"
    )
    args = parser.parse_args()
    count = args.subscribers

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    database_url = create_database(name)
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    port = free_port()
    receiver = start_receiver(port)
    payload = _sample_payload()
    # The ceiling is measured before and after the fan-out and averaged: on a shared
    # machine the load of other work changes within a minute.
    ceiling_before = asyncio.run(bare_client(port, count, payload))
    stack = Stack(
        database_url,
        BENCH_REDIS_URL,
        Path(tempfile.mkdtemp(prefix="bantin-fanout-")),
        BANTIN_EGRESS_ALLOW="127.0.0.1/32",
        BANTIN_LOG_LEVEL="INFO",
        **({"BANTIN_DELIVERY_BATCH_SIZE": str(args.batch_size)} if args.batch_size else {}),
        **({"BANTIN_WORKER_CONCURRENCY": str(args.processes)} if args.processes else {}),
    )
    # Without --split-queues: the stack's two workers, as `bantin up` runs them (decision 0031).
    workers = ["worker-deliveries", "worker-events"] if args.split_queues else ["sender", "worker"]
    try:
        start_stack(stack, args.split_queues)
        add_subscriptions(database_url, port, count)
        token = stack.create_token("publish")
        watches = {worker: MemoryWatch(stack.processes[worker].pid) for worker in workers}
        for watch in watches.values():
            watch.start()
        counter = DeliveredCounter(database_url)
        roots = {role: process.pid for role, process in stack.processes.items()} | {"receiver": receiver.pid}
        cpu = CpuWatch(roots, database_url, counter.backend_pid)
        cpu.start()
        response = httpx.post(
            f"{stack.base_url}/api/v1/articles",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam",
                "summary": "Tóm tắt",
                "body_html": "<p>Nội dung</p>",
            },
            timeout=30,
        )
        returned, returned_at = time.perf_counter(), time.time()
        assert response.status_code == 201, response.text
        batch_size = int(
            stack.env.get("BANTIN_DELIVERY_BATCH_SIZE") or Settings.model_fields["delivery_batch_size"].default
        )
        elapsed = counter.wait_for(count, near=batch_size) - returned
        spent = cpu.stop()
        steps = counter.timeline(returned_at)
        sizes = table_sizes(database_url)
        counter.close()
        for watch in watches.values():
            watch.running = False
            watch.join()
    finally:
        stack.stop_all()
    client_cpu = time.process_time()
    ceiling_after = asyncio.run(bare_client(port, count, payload))
    client_cpu = time.process_time() - client_cpu
    ceiling = (ceiling_before + ceiling_after) / 2
    receiver.terminate()
    receiver.wait()
    drop_database(name)

    rate, ceiling_rate = count / elapsed, count / ceiling
    processes = stack.env.get("BANTIN_WORKER_CONCURRENCY", "2")
    batch = stack.env.get("BANTIN_DELIVERY_BATCH_SIZE", "default")
    shape = (
        f"worker-deliveries × {processes} processes + worker-events × 1 process"
        if args.split_queues
        else f"1 worker × {processes} processes"
    )
    print(f"fan-out: 1 publish → {count} webhook subscriptions, {shape}, batch {batch}")
    print(f"  POST returned → last delivery recorded delivered: {elapsed:.2f} s = {rate:,.0f} deliveries/s")
    print("  (goal ≥ 3,000 deliveries/s)")
    print("  timeline from the POST returning (database timestamps):")
    for step, seconds in steps.items():
        print(f"    {step:18} {seconds * 1000:7.0f} ms")
    print(f"  worker logs: {stack.log_dir}")
    for worker, watch in watches.items():
        print(f"  peak {worker} memory (main + pool): {watch.peak / 2**20:.0f} MiB")
    print("  CPU-seconds per 1,000 deliveries (from /proc, POST → last delivery):")
    for role in [*workers, "postgresql", "receiver", "api", "beat"]:
        print(f"    {role:18} {spent.get(role, 0.0) * 1000 / count:6.3f}   ({spent.get(role, 0.0):.2f} s in all)")
    print("  PostgreSQL bytes per row, indexes included (after VACUUM ANALYZE):")
    for table, (rows, size) in sizes.items():
        print(f"    {table:18} {size / max(rows, 1):6.0f}   ({rows:,} rows, {size / 2**20:.1f} MiB)")
    print(f"ceiling, same run: bare aiohttp client, {CEILING_CONNECTIONS} connections, same payload")
    print(
        f"  {count} posts in {ceiling_before:.2f} s before, {ceiling_after:.2f} s after the fan-out:"
        f" mean {ceiling_rate:,.0f} posts/s"
    )
    print(f"  CPU-seconds per 1,000 posts of the bare client: {client_cpu * 1000 / count:.3f}")
    print(f"  Bantin / ceiling = {rate / ceiling_rate:.2f} (goal ≥ 0.5)")


def _ready(log_file: Path) -> bool:
    return log_file.exists() and b" ready." in log_file.read_bytes()


def table_sizes(database_url: str) -> dict[str, tuple[int, int]]:
    """Rows and bytes (table, TOAST and indexes) of the tables a fan-out writes."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    sizes = {}
    with engine.connect() as connection:
        for table in ("subscriptions", "deliveries", "delivery_attempts"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
            rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed names
            size = connection.execute(text("SELECT pg_total_relation_size(:t)"), {"t": table}).scalar_one()
            sizes[table] = (int(rows), int(size))
    engine.dispose()
    return sizes


def start_stack(stack: Stack, split_queues: bool) -> None:
    """Migrate, then the workers, beat and the API (as ``Stack.start_all``, with the queues split if asked)."""
    if not split_queues:
        stack.start_all()
        return
    migrated = stack.run("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    for name, queues, concurrency in (
        ("worker-deliveries", "deliveries", stack.env.get("BANTIN_WORKER_CONCURRENCY", "2")),
        ("worker-events", "events,maintenance", "1"),
    ):
        log_file = stack.log_dir / f"{name}.log"
        # Each worker host serves its own metrics port.
        stack.start(
            name, "worker", "--queues", queues, "--concurrency", concurrency, BANTIN_METRICS_PORT=str(free_port())
        )
        wait_until(partial(_ready, log_file), 60, f"{name} to be ready", 0.1)
    stack.start_beat()
    stack.start_api()


def _sample_payload() -> bytes:
    # The size and shape of the webhook body the service sent.
    from service.channels.webhook import webhook_body
    from tests.outbound import outbound

    message = outbound(
        "article.published",
        {
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
        delivery_id="msg_" + "0" * 32,
        created_at=time.time(),
    )
    return webhook_body(message)


if __name__ == "__main__":
    main()
