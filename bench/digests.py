"""Digest throughput: one daily period for 100,000 e-mail readers, to a local aiosmtpd server.

Starts the real API, one Celery worker (BANTIN_WORKER_CONCURRENCY processes) and beat
on PostgreSQL and Redis, and an aiosmtpd sink (``bench.smtp_sink``, its own process).
Inserts the readers (daily, a few category choices) and publishes ten articles, then
moves the stack's clock file past 06:30: beat's ``digests.tick`` plans the digest rows
in chunks, the sender (decision 0031) sends them as delivery batches. Prints e-mails/s from the clock
move to the last delivery recorded as delivered (and when the planning ended), the
peak RSS of the sender (its tree summed, and its largest process), and — in the same
run, before and after — the ceiling: a bare ``smtplib`` sender per worker process
sending a rendered digest of the same size to the same sink over one connection each.

    python -m bench.digests [--subscribers 100000] [--processes 2] [--profile]
                            [--kill-worker-at 0.5 [--kill-whole-worker]] [--task-time-limit 60]

As bench.fanout also prints (and with its code): what the sink saw — distinct
``X-Bantin-Delivery`` ids and Message-IDs, messages to a reader seen before and whether
they carried another id —, peak RSS of every process and of Redis, CPU-seconds per 1,000
e-mails per role (sender, events worker, PostgreSQL backends, sink, API, beat), WAL
written and table and index sizes. ``--kill-worker-at 0.5`` SIGKILLs a pool process of
the sender when half is delivered (``--kill-whole-worker``: the whole sender, started
again), and reports the repeats against their bound and the time lost.

``--profile`` also sends one batch of 500 digests in this process under cProfile
(after the run, on the same rows set back to pending) and prints where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import random
import resource
import secrets
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import redis
from sqlalchemy import create_engine, insert, text

from bench.fanout import (
    BENCH_REDIS_URL,
    add_kill_arguments,
    batch_size_of,
    kill,
    kill_env,
    print_kill,
    print_load,
    print_resources,
    start_measuring,
    stop_watches,
    table_sizes,
)
from bench.fanout_watch import tree as process_tree
from service.db.models import Subscription
from tests.integration.conftest import create_database, drop_database
from tests.integration.stack import REPO, Stack, free_port, wait_until

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CATEGORIES = ["Thời sự", "Kinh tế", "Văn hóa", "Thể thao", "Đà Nẵng"]
ARTICLES = 10
CHUNK = 10_000
CEILING_MESSAGES = 10_000


def start_sink(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.smtp_sink", "--port", str(port)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def next_daily(after: datetime) -> datetime:
    """The first 06:30 in Hà Nội after ``after``."""
    local = after.astimezone(HANOI)
    candidate = local.replace(hour=6, minute=30, second=0, microsecond=0)
    return candidate if candidate > local else candidate + timedelta(days=1)


def add_readers(database_url: str, slugs: list[str], count: int, since: datetime) -> None:
    """``count`` confirmed daily readers: a third want everything, the others one or two categories."""
    chooser = random.Random(42)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            rows: list[dict[str, object]] = [
                {
                    "channel": "email",
                    "target": f"ban.doc.{n}@example.vn",
                    "events": [],
                    "categories": [] if n % 3 == 0 else chooser.sample(slugs, 1 + n % 2),
                    "locale": "vi" if n % 4 else "en",
                    "options": {},
                    "status": "active",
                    "unsubscribe_token": secrets.token_urlsafe(32),
                    "frequency": "daily",
                    "digest_since": since,
                    "created_at": since,
                    "updated_at": since,
                }
                for n in range(start, min(count, start + CHUNK))
            ]
            connection.execute(insert(Subscription), rows)
        connection.execute(text("ANALYZE subscriptions"))
    engine.dispose()


def _ceiling_worker(port: int, message: bytes, count: int) -> None:
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.sendmail("bantin@danang.example.vn", ["ban.doc@example.vn"], message)


def ceiling(port: int, message: bytes, processes: int, count: int) -> float:
    """Messages/s of ``processes`` bare smtplib senders (one connection each, own processes)."""
    started = time.perf_counter()
    workers = [
        multiprocessing.Process(target=_ceiling_worker, args=(port, message, count // processes))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (count // processes) * processes / (time.perf_counter() - started)


def count(connection: object, sql: str) -> int:
    return int(connection.execute(text(sql)).scalar_one())  # type: ignore[attr-defined]


def sample_message(stack: Stack) -> bytes:
    """One digest as the worker renders it (the first reader's, all categories), as bytes."""
    os.environ.update(stack.env)
    from config.settings import get_settings
    from service.announcement_kinds import register_all
    from service.channels.mail import build_email
    from service.db.engine import get_engine, get_sessionmaker
    from service.deliveries.sender import claim
    from service.digests.planning import owed_subscribers, plan_chunk

    register_all()

    get_settings.cache_clear()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()

    settings = get_settings()
    # Planned and claimed in a transaction that is rolled back: the run plans it for real.
    session = get_sessionmaker()()
    try:
        due = next_daily(datetime.now(UTC)).astimezone(UTC)
        candidates = owed_subscribers(session, "daily", due, 0, 1)
        plan_chunk(session, "daily", due, candidates, settings)
        delivery_id = session.execute(text("SELECT id FROM deliveries LIMIT 1")).scalar_one()
        [message] = claim(session, [delivery_id], datetime.now(UTC), settings)
        return bytes(build_email(settings, message))
    finally:
        session.rollback()
        session.close()


def profile_batch(stack: Stack, size: int) -> None:
    """One batch of ``size`` delivered digests set back to pending and sent here under cProfile."""
    from config.settings import get_settings
    from service.announcement_kinds import register_all
    from service.db.engine import session_scope
    from service.deliveries.ratelimit import limiter_for
    from service.deliveries.sender import send_batch

    register_all()

    settings = get_settings()
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
    with engine.begin() as connection:
        ids = [
            row[0]
            for row in connection.execute(
                text(
                    "UPDATE deliveries SET status = 'pending', lease_until = NULL WHERE id IN "
                    "(SELECT id FROM deliveries ORDER BY id LIMIT :n) RETURNING id"
                ),
                {"n": size},
            )
        ]
    engine.dispose()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    summary = send_batch(session_scope, ids, datetime.now(UTC), limiter_for(settings), settings)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"\nprofile: one batch of {summary.delivered} digests in this process: {summary.delivered / elapsed:,.0f}/s")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(28)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    add_kill_arguments(parser)
    args = parser.parse_args()
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    name = f"bantin_bench_digests_{uuid.uuid4().hex[:8]}"
    database_url = create_database(name)
    smtp_port = free_port()
    sink = start_sink(smtp_port)
    directory = Path(tempfile.mkdtemp(prefix="bantin-bench-digests-"))
    clock = directory / "clock"
    clock.write_text(datetime.now(UTC).isoformat())
    stack = Stack(
        database_url,
        BENCH_REDIS_URL,
        directory,
        BANTIN_CLOCK_FILE=str(clock),
        BANTIN_SMTP_HOST="127.0.0.1",
        BANTIN_SMTP_PORT=str(smtp_port),
        BANTIN_SMTP_SECURITY="plain",
        BANTIN_SMTP_FROM="Thành ủy Đà Nẵng <bantin@danang.example.vn>",
        BANTIN_SITE_TITLE="Thành ủy Đà Nẵng",
        BANTIN_WORKER_CONCURRENCY=str(args.processes),
        BANTIN_METRICS_PORT="0",
        **kill_env(args),
    )
    try:
        stack.start_all()
        engine = create_engine(database_url)
        watch_db = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # The look-back's past periods are completed (with no readers) before any reader exists.
        wait_until(lambda: count(watch_db, "SELECT count(*) FROM digest_periods") >= 16, 60, "the first tick")
        token = stack.create_token("publish")
        since = datetime.now(UTC) - timedelta(minutes=1)
        with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}) as api:
            for n in range(ARTICLES):
                api.post(
                    "/api/v1/articles",
                    json={
                        "title": f"Bài thứ {n + 1}: Đà Nẵng triển khai chuyển đổi số trong cơ quan Đảng",
                        "summary": "Thành ủy Đà Nẵng họp bàn kế hoạch năm 2027 về chuyển đổi số, cải cách "
                        "hành chính và phát triển kinh tế số trên địa bàn thành phố. " * 2,
                        "body_html": "<p>Nội dung.</p>",
                        "image_url": f"https://danang.example.vn/anh/{n}.jpg",
                        # A cover must say what it shows before the article is published.
                        "image_alt": "Quang cảnh hội nghị Thành ủy Đà Nẵng bàn về chuyển đổi số",
                        "categories": [CATEGORIES[n % len(CATEGORIES)]],
                    },
                    timeout=30,
                ).raise_for_status()
        slugs = [row[0] for row in watch_db.execute(text("SELECT slug FROM categories"))]
        add_readers(database_url, slugs, args.subscribers, since)
        message = sample_message(stack)
        before = ceiling(smtp_port, message, args.processes, min(CEILING_MESSAGES, args.subscribers))
        sink_counts(sink)  # the ceiling's messages are not the run's

        watches, counter, wal_before, cpu = start_measuring(stack, database_url, {"smtp sink": sink.pid})
        due = next_daily(datetime.now(UTC))
        started = time.perf_counter()
        clock.write_text((due + timedelta(minutes=1)).isoformat())
        total = args.subscribers
        batch_size = batch_size_of(stack)
        planned_at, rest, killed = 0.0, 0.0, None
        kill_at = int(total * args.kill_worker_at) if args.kill_worker_at else total + 1
        deadline = started + total / 20 + 900
        while time.perf_counter() < deadline:
            delivered = counter()
            if not planned_at and count(watch_db, "SELECT count(*) FROM digests") >= total:
                planned_at = time.perf_counter() - started
            if killed is None and delivered >= kill_at:
                killed = kill(stack, "sender", args.kill_whole_worker, watches)
            if killed is not None and not rest and delivered >= total - batch_size * killed.processes:
                rest = time.perf_counter()
            if delivered >= total:
                break
            time.sleep(0.25)
        else:
            raise AssertionError(f"timed out: {counter():,} of {total:,} delivered")
        finished = time.perf_counter()
        elapsed = finished - started
        spent = cpu.stop()
        wal = counter.wal() - wal_before
        largest = max(_peak_rss(pid) for pid in process_tree(stack.processes["sender"].pid))
        sizes = table_sizes(database_url, ("subscriptions", "digests", "deliveries", "delivery_attempts"))
        counter.close()
        stop_watches(watches)
        seen = sink_counts(sink)
        ceiling_messages = min(CEILING_MESSAGES, args.subscribers)
        # The bare senders are child processes, waited for: their CPU is in RUSAGE_CHILDREN.
        client_cpu = _children_cpu()
        after = ceiling(smtp_port, message, args.processes, ceiling_messages)
        client_cpu = _children_cpu() - client_cpu
        reference = (before + after) / 2
        rate = total / elapsed
        print(f"digests: {total:,} readers, {args.processes} sender processes, message {len(message):,} bytes")
        print_load()
        print(f"  planned (digest rows + delivery rows) after {planned_at:.1f} s")
        print(f"  clock moved → last delivery recorded delivered: {elapsed:.1f} s = {rate:,.0f} e-mails/s")
        print(
            f"  sink: {seen['count']:,} messages, {seen['distinct']:,} distinct X-Bantin-Delivery,"
            f" {seen['message_ids']:,} distinct Message-IDs, {seen['repeats']:,} to a reader seen before"
            f" ({seen['changed_id']} with another delivery id, {seen['changed_message_id']} with another"
            " Message-ID than the first)"
        )
        if killed is not None:
            print_kill(killed, seen["repeats"], batch_size, started, finished - rest, stack)
        print(f"  worker logs: {directory}")
        roles = ["sender", "worker", "postgresql", "smtp sink", "api", "beat"]
        print_resources(watches, spent, roles, total, wal, sizes)
        print(f"    largest sender process (VmHWM): {largest / 2**20:,.0f} MiB")
        print(f"ceiling, same run: bare smtplib × {args.processes} processes, one connection each, same message")
        print(f"  {before:,.0f}/s before, {after:,.0f}/s after: ratio {rate / reference:.2f}× (goal ≥ 0.5×)")
        print(f"  CPU-seconds per 1,000 messages of the bare senders: {client_cpu * 1000 / ceiling_messages:.3f}")
        if args.profile:
            profile_batch(stack, 500)
        watch_db.close()
        engine.dispose()
    finally:
        stack.stop_all()
        sink.terminate()
        sink.wait()
        drop_database(name)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  getrusage ru_maxrss: largest child process {children:,.0f} MiB, this process {own:,.0f} MiB")


def sink_counts(sink: subprocess.Popen[str]) -> dict[str, int]:
    """The sink's counts since the last call (bench.smtp_sink: SIGUSR1 prints them and starts again)."""
    assert sink.stdout is not None
    sink.send_signal(signal.SIGUSR1)
    counts: dict[str, int] = json.loads(sink.stdout.readline())
    return counts


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _peak_rss(pid: int) -> int:
    """VmHWM (the peak resident set) of one process, in bytes; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    main()
