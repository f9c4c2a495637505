"""Fan-out throughput: one publish to 5,000 (or a million) webhook or Web Push subscriptions.

Starts the real API, one Celery worker (BANTIN_WORKER_CONCURRENCY processes) and beat
on PostgreSQL and Redis, and a local asyncio receiver (its own process) answering 204
(``--channel web-push``: 201, as a push service; the channel specifics are in
``bench/fanout_channels.py``).
Prints deliveries/s from the POST returning to the last delivery recorded as
delivered, the workers' peak memory, the CPU-seconds per 1,000 deliveries of the
worker processes and of the PostgreSQL backends serving the bench database (from
/proc), and — in the same run, before and after the fan-out — the ceiling: the same
receiver driven by the bare lean client (decision 0047) with 64 connections and the same body and
headers (for Web Push: one push as the channel encrypts and signs it, posted again and
again, so the ceiling is the transport alone).

    python -m bench.fanout [--channel webhook|web-push] [--subscribers 5000] [--processes 1|2] [--split-queues]
                           [--kill-worker-at 0.5 [--kill-whole-worker]] [--task-time-limit 30]

Also printed: distinct ``webhook-id``s at the receiver (Web Push: distinct endpoints, a
push carrying no delivery id) and how many requests came again (a resend must carry its
first attempt's id; a push its first attempt's Topic), peak RSS of every process and of Redis,
WAL written and table and index sizes. ``--kill-worker-at 0.5`` SIGKILLs a pool process
of the sending worker when half is delivered (``--kill-whole-worker``: the whole worker,
started again at once); its batch waits for its lease (the task time limit + ⅓), so
``--task-time-limit`` shortens the time lost. Subscriptions are seeded by SQL.

``--split-queues`` runs two workers, as a larger deployment would: one serving only
``deliveries`` (``--processes`` processes) and one serving ``events,maintenance`` (one
process); the figures are then given per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import redis
import uvloop
from sqlalchemy import create_engine, text

from bench.fanout_channels import CHANNELS, Wire
from bench.fanout_watch import CpuWatch, MemoryWatch, RedisMemory, tree
from config.settings import Settings
from service.channels.keepalive import KeepAlivePool
from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.stack import REPO, Stack, free_port, wait_until

# Flushed at the start: a database of its own (BANTIN_BENCH_REDIS_URL when several run side by side).
BENCH_REDIS_URL = os.environ.get("BANTIN_BENCH_REDIS_URL") or REDIS_URL.rsplit("/", 1)[0] + "/14"
CEILING_CONNECTIONS = 64


def start_receiver(port: int, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", "--port", str(port), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


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

    def wal(self) -> int:
        """Bytes of WAL the cluster has written so far."""
        query = text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")
        return int(self.connection.execute(query).scalar_one())

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


async def bare_client(port: int, count: int, wire: Wire) -> float:
    """Seconds for ``count`` POSTs of the channel's wire form by the bare transport the sender
    posts with — the lean keep-alive client (decision 0047) on uvloop, CEILING_CONNECTIONS at
    a time — with nothing else: no database, no signing or encryption, no request built per
    delivery beyond its path. The fastest honest version of the send (a bare aiohttp client,
    the reference before 2026-12-07, costs about twice the CPU per post and flattered the ratio)."""
    pool = KeepAlivePool(idle_per_origin=CEILING_CONNECTIONS, idle_total=CEILING_CONNECTIONS)
    origin = ("http", "127.0.0.1", port, None)
    head = "".join(f"{name}: {value}\r\n" for name, value in wire.headers.items())
    tail = f"HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: {len(wire.body)}\r\n\r\n".encode()
    gate = asyncio.Semaphore(CEILING_CONNECTIONS)

    async def one(n: int) -> None:
        async with gate:
            status, _, _ = await pool.post(
                origin, b"POST %s%d " % (wire.path.encode(), n) + tail + wire.body, 30, 1 << 20
            )
        assert status == wire.status

    started = time.perf_counter()
    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        pool.close()
    return time.perf_counter() - started


def ceiling_seconds(port: int, count: int, wire: Wire) -> float:
    """:func:`bare_client` on uvloop, as the worker runs its sends."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(bare_client(port, count, wire))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channel", choices=sorted(CHANNELS), default="webhook")
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, help="BANTIN_DELIVERY_BATCH_SIZE for the worker (default: its own)")
    parser.add_argument("--processes", type=int, help="BANTIN_WORKER_CONCURRENCY (default: its own, 2)")
    parser.add_argument(
        "--split-queues", action="store_true", help="one worker for deliveries, another for events,maintenance"
    )
    add_kill_arguments(parser)
    parser.add_argument("--ceiling-posts", type=int, default=100_000, help="bare-client posts before and after")
    args = parser.parse_args()
    count = args.subscribers
    channel = CHANNELS[args.channel]()

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    database_url = create_database(name)
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    port = free_port()
    receiver = start_receiver(port, *channel.receiver_args)
    try:
        wire = channel.wire(port)
        # The ceiling is measured before and after the fan-out and averaged: on a shared
        # machine the load of other work changes within a minute.
        ceiling_posts = min(count, args.ceiling_posts)
        ceiling_before = ceiling_seconds(port, ceiling_posts, wire)
        httpx.post(f"http://127.0.0.1:{port}/reset")
        extra = {
            "BANTIN_EGRESS_ALLOW": "127.0.0.1/32",
            "BANTIN_LOG_LEVEL": "INFO",
            # Production's sweep interval: the stack's 1 s would count a million pending rows every second.
            "BANTIN_SWEEP_INTERVAL_SECONDS": "10",
            **({"BANTIN_DELIVERY_BATCH_SIZE": str(args.batch_size)} if args.batch_size else {}),
            **({"BANTIN_WORKER_CONCURRENCY": str(args.processes)} if args.processes else {}),
            **kill_env(args),
            **channel.env(),
        }
        stack = Stack(database_url, BENCH_REDIS_URL, Path(tempfile.mkdtemp(prefix="bantin-fanout-")), **extra)
        # Without --split-queues: the stack's two workers, as `bantin up` runs them (decision 0031).
        workers = ["worker-deliveries", "worker-events"] if args.split_queues else ["sender", "worker"]
        sender = workers[0]
        seeded = time.perf_counter()
        try:
            start_stack(stack, args.split_queues)
            channel.seed(database_url, port, count)
            seeded = time.perf_counter() - seeded
            token = stack.create_token("publish")
            watches, counter, wal_before, cpu = start_measuring(stack, database_url, {"receiver": receiver.pid})
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
            batch_size = batch_size_of(stack)
            killed, rest = None, 0.0
            if args.kill_worker_at:
                counter.wait_for(int(count * args.kill_worker_at), near=0, timeout=count / 50 + 600)
                killed = kill(stack, sender, args.kill_whole_worker, watches)
                # The rows of the killed batch(es) wait for their lease; everything else goes on.
                rest = counter.wait_for(count - batch_size * killed.processes, near=0, timeout=count / 50 + 900)
            elapsed = counter.wait_for(count, near=batch_size, timeout=count / 50 + 900) - returned
            spent = cpu.stop()
            wal = counter.wal() - wal_before
            steps = counter.timeline(returned_at)
            sizes = table_sizes(database_url)
            counter.close()
            stop_watches(watches)
            empty_batches = count_empty_batches(stack.log_dir)
        finally:
            stack.stop_all()
        seen = httpx.get(f"http://127.0.0.1:{port}/count").json()
        client_cpu = time.process_time()
        ceiling_after = ceiling_seconds(port, ceiling_posts, wire)
        client_cpu = time.process_time() - client_cpu
        ceiling = (ceiling_before + ceiling_after) / 2
    finally:
        receiver.terminate()
        receiver.wait()
        drop_database(name)

    rate, ceiling_rate = count / elapsed, ceiling_posts / ceiling
    processes = stack.env.get("BANTIN_WORKER_CONCURRENCY", "2")
    batch = stack.env.get("BANTIN_DELIVERY_BATCH_SIZE", "default")
    shape = (
        f"worker-deliveries × {processes} processes + worker-events × 1 process"
        if args.split_queues
        else f"1 worker × {processes} processes"
    )
    print(f"fan-out: 1 publish → {count:,} {channel.label}, {shape}, batch {batch}")
    print_load()
    print(f"  subscriptions seeded (INSERT … SELECT) and the stack started in {seeded:.0f} s")
    print(f"  POST returned → last delivery recorded delivered: {elapsed:.2f} s = {rate:,.0f} deliveries/s")
    print("  timeline from the POST returning (database timestamps):")
    for step, seconds in steps.items():
        print(f"    {step:18} {seconds:9.2f} s")
    print(
        f"  receiver: {seen['count']:,} requests, {seen['distinct']:,} distinct {channel.id_name},"
        f" {seen['repeats']:,} seen again ({seen['changed_id']} with another"
        f" {'Topic' if channel.name == 'web_push' else 'id'} than the first)"
    )
    print(f"  batch messages that found nothing to claim (re-published or duplicate): {empty_batches}")
    if killed is not None:
        print_kill(killed, seen["repeats"], batch_size, returned, returned + elapsed - rest, stack)
    print(f"  worker logs: {stack.log_dir}")
    print_resources(watches, spent, [*workers, "postgresql", "receiver", "api", "beat"], count, wal, sizes)
    print(
        f"ceiling, same run: the bare lean client on uvloop, {CEILING_CONNECTIONS} connections, same body and headers"
    )
    print(
        f"  {ceiling_posts:,} posts of {len(wire.body):,} bytes in {ceiling_before:.2f} s before,"
        f" {ceiling_after:.2f} s after the fan-out: mean {ceiling_rate:,.0f} posts/s"
    )
    print(f"  CPU-seconds per 1,000 posts of the bare client: {client_cpu * 1000 / ceiling_posts:.3f}")
    print(f"  Bantin / ceiling = {rate / ceiling_rate:.2f}")


def add_kill_arguments(parser: argparse.ArgumentParser) -> None:
    """--kill-worker-at, --kill-whole-worker, --task-time-limit: shared with bench.digests."""
    parser.add_argument("--kill-worker-at", type=float, help="SIGKILL a sending worker's pool process at this share")
    parser.add_argument("--kill-whole-worker", action="store_true", help="with --kill-worker-at: the whole worker")
    parser.add_argument("--task-time-limit", type=float, help="BANTIN_TASK_TIME_LIMIT_SECONDS (leases are ⅓ longer)")


def kill_env(args: argparse.Namespace) -> dict[str, str]:
    return {"BANTIN_TASK_TIME_LIMIT_SECONDS": f"{args.task_time_limit:g}"} if args.task_time_limit else {}


def batch_size_of(stack: Stack) -> int:
    """Deliveries per batch task in this stack (BANTIN_DELIVERY_BATCH_SIZE or its default)."""
    return int(stack.env.get("BANTIN_DELIVERY_BATCH_SIZE") or Settings.model_fields["delivery_batch_size"].default)


def start_watches(stack: Stack, others: dict[str, int], redis_url: str) -> dict[str, Any]:
    """Peak RSS watches of every process of the stack, of ``others`` (role: pid) and of Redis, started."""
    watches: dict[str, Any] = {role: MemoryWatch(process.pid) for role, process in stack.processes.items()}
    watches |= {role: MemoryWatch(pid) for role, pid in others.items()} | {"redis-server": RedisMemory(redis_url)}
    for watch in watches.values():
        watch.start()
    return watches


class Measuring(NamedTuple):
    watches: dict[str, Any]
    counter: DeliveredCounter
    wal_before: int
    cpu: CpuWatch


def start_measuring(stack: Stack, database_url: str, others: dict[str, int]) -> Measuring:
    """Everything a run measures, started: peak RSS of the stack, ``others`` (role: pid) and
    Redis; the delivered counter and the WAL position; CPU of those processes and of the
    database's backends."""
    watches = start_watches(stack, others, BENCH_REDIS_URL)
    counter = DeliveredCounter(database_url)
    roots = {role: process.pid for role, process in stack.processes.items()} | others
    cpu = CpuWatch(roots, database_url, counter.backend_pid)
    cpu.start()
    return Measuring(watches, counter, counter.wal(), cpu)


def stop_watches(watches: dict[str, Any]) -> None:
    for watch in watches.values():
        watch.running = False
        watch.join()


def print_load() -> None:
    print(f"  load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores, shared)")


def print_kill(killed: Killed, repeats: int, batch_size: int, returned: float, lost: float, stack: Stack) -> None:
    """The kill, the repeats against their bound and how late the killed batch's rows came
    (``lost``: seconds from the rest being recorded to the last row)."""
    bound = batch_size * killed.processes
    lease = float(stack.env.get("BANTIN_TASK_TIME_LIMIT_SECONDS", "180")) * 4 / 3
    print(
        f"  killed {killed.what} {killed.at - returned:.1f} s after the start; repeats {repeats:,},"
        f" bound {bound:,} ({killed.processes} process(es) × one batch of {batch_size} in flight)"
    )
    print(
        f"  time lost: the last {bound:,} rows were recorded {lost:.1f} s after the rest (their lease: {lease:.0f} s)"
    )


def print_resources(
    watches: dict[str, Any],
    spent: dict[str, float],
    roles: list[str],
    count: int,
    wal: int,
    sizes: dict[str, tuple[int, int, int]],
) -> None:
    """Peak RSS of every watched process, CPU per 1,000 deliveries per role, WAL, table sizes."""
    print("  peak RSS (process and its children):")
    for role, watch in watches.items():
        print(f"    {role:18} {watch.peak / 2**20:7.0f} MiB")
    print("  CPU-seconds per 1,000 deliveries (from /proc, start → last delivery):")
    for role in roles:
        print(f"    {role:18} {spent.get(role, 0.0) * 1000 / count:6.3f}   ({spent.get(role, 0.0):.2f} s in all)")
    print(f"  WAL written (the whole cluster, shared with other work): {wal / 2**20:,.0f} MiB")
    print("  PostgreSQL sizes after VACUUM ANALYZE: rows, table, indexes, bytes per row")
    for table, (rows, heap, indexes) in sizes.items():
        print(
            f"    {table:18} {rows:>10,} {heap / 2**20:8.1f} MiB {indexes / 2**20:8.1f} MiB"
            f" {(heap + indexes) / max(rows, 1):6.0f} B"
        )


class Killed(NamedTuple):
    what: str
    at: float
    processes: int


def kill(stack: Stack, sender: str, whole: bool, watches: dict[str, Any]) -> Killed:
    """SIGKILL one pool process of the sending worker (Celery starts another), or the whole
    worker and its pool, started again at once as systemd would."""
    main_pid = stack.processes[sender].pid
    children = tree(main_pid)[1:]
    at = time.perf_counter()
    if not whole:
        os.kill(children[0], signal.SIGKILL)
        return Killed(f"{sender} pool process {children[0]}", at, 1)
    os.killpg(main_pid, signal.SIGKILL)
    stack.processes[sender].wait()
    old = watches[sender]
    stack.start_sender(sender) if sender == "sender" else stack.start_worker(sender, "deliveries")
    watches[f"{sender} (restarted)"] = MemoryWatch(stack.processes[sender].pid)
    watches[f"{sender} (restarted)"].start()
    old.running = False
    return Killed(f"the whole {sender} ({len(children) + 1} processes), restarted", at, len(children))


def count_empty_batches(log_dir: Path) -> int:
    """Batch tasks whose claim found no pending row: a re-published or duplicate message."""
    return sum(path.read_text(errors="replace").count("'claimed': 0,") for path in log_dir.glob("*.log"))


def _ready(log_file: Path) -> bool:
    return log_file.exists() and b" ready." in log_file.read_bytes()


def table_sizes(
    database_url: str, tables: tuple[str, ...] = ("subscriptions", "deliveries", "delivery_attempts")
) -> dict[str, tuple[int, int, int]]:
    """Rows, table bytes (with TOAST) and index bytes of ``tables`` (those a fan-out writes)."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    sizes = {}
    with engine.connect() as connection:
        for table in tables:
            connection.execute(text(f"VACUUM ANALYZE {table}"))
            rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed names
            heap, indexes = connection.execute(
                text("SELECT pg_table_size(:t), pg_indexes_size(:t)"), {"t": table}
            ).one()
            sizes[table] = (int(rows), int(heap), int(indexes))
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


if __name__ == "__main__":
    main()
