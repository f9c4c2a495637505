"""What BEGIN IMMEDIATE costs on the embedded default (decision 0027), in one run.

Two engines on two fresh SQLite files, each migrated:

- ``deferred``: the engine before decision 0027 (pysqlite's own BEGIN, only before the
  first INSERT/UPDATE/DELETE; WAL; 30 s busy timeout);
- ``immediate``: ``make_engine`` as it is now (BEGIN IMMEDIATE at the first statement).

On each, from 1, 4 and 8 threads at once (the API's thread pool, worker processes): a
publish (``create_article`` with two categories: article, links, counters, generation,
revision, outbox event, one unit of work) and a reader sign-up (``request_signup``: the
limits, the subscription, the request, its confirmation mail's delivery row). Then, while
one thread publishes without pause, the latency of a read on an autocommit connection
(``read_scope``: the documents' recheck, pages) and of a read-only unit of work. Prints
units of work a second, per-unit latency percentiles, and errors (none is expected).

    python -m bench.sqlite_writes [--units 240] [--threads 1,4,8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

BENCH_DIR = Path(tempfile.mkdtemp(prefix="bantin-sqlite-bench-"))
os.environ.update(
    BANTIN_ENVIRONMENT="test",
    BANTIN_VAR_DIR=str(BENCH_DIR),
    BANTIN_BROKER_URL="memory://",
    BANTIN_BASE_URL="https://bantin.example.vn",
    BANTIN_SECRET_KEY="bench-secret-key-0123456789abcdef",  # noqa: S106 - a throwaway database's key
    # Sign-ups from many clients to many domains: the bench measures the transaction, not the caps.
    BANTIN_SUBSCRIBE_PER_CLIENT_PER_HOUR="100000",
    BANTIN_SUBSCRIBE_PENDING_PER_DOMAIN="100000",
)

from config.settings import get_settings  # noqa: E402 - after the environment above
from service.articles.editorial import OPERATOR  # noqa: E402
from service.articles.schemas import ArticleCreate  # noqa: E402
from service.articles.service import create_article  # noqa: E402
from service.db.engine import SQLITE_BUSY_TIMEOUT_SECONDS, make_engine  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.db.models import Article  # noqa: E402
from service.db.types import utcnow  # noqa: E402
from service.deliveries.ratelimit import LocalRateLimiter  # noqa: E402
from service.readers.schemas import SignupForm  # noqa: E402
from service.readers.signup import request_signup  # noqa: E402

Work = Callable[[Session, int], object]


def deferred_engine(url: str) -> Engine:
    """The engine as ``make_engine`` built it before decision 0027."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    return engine


@contextmanager
def unit(factory: sessionmaker[Session]) -> Iterator[Session]:
    """``session_scope``'s commit-or-roll-back on one of the two engines (``session_scope`` is
    bound to the process's one engine; nothing is sent after commit here)."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def publish(session: Session, n: int) -> object:
    data = ArticleCreate(
        title=f"Kỷ niệm {n} năm Ngày thành lập Đảng Cộng sản Việt Nam",
        body_html=f"<p>Thành ủy Đà Nẵng tổ chức hội nghị {n}.</p>" * 20,
        categories=["Xây dựng Đảng", f"Chuyên mục {n % 5}"],
    )
    return create_article(session, data, utcnow(), get_settings(), OPERATOR)


LIMITER = LocalRateLimiter()


def sign_up(session: Session, n: int) -> object:
    form = SignupForm(email=f"ban.doc{n}.{time.monotonic_ns()}@mien{n % 20}.example.vn", consent=True)
    request_signup(session, form, f"198.51.100.{n % 250}", utcnow(), get_settings(), LIMITER)
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def hammer(factory: sessionmaker[Session], work: Work, threads: int, units: int) -> tuple[float, list[float], int]:
    """``units`` units of work shared by ``threads`` threads: (seconds, per-unit ms, errors)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def run(offset: int) -> None:
        start.wait()
        for n in range(offset, units, threads):
            began = time.perf_counter()
            try:
                with unit(factory) as session:
                    work(session, n)
            except Exception as exc:  # noqa: BLE001 - counted and printed
                with lock:
                    errors.append(exc)
                continue
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    workers = [threading.Thread(target=run, args=(offset,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    if errors:
        print(f"    first error: {errors[0]!r}")
    return time.perf_counter() - began, latencies, len(errors)


def reads_under_writes(
    engine: Engine, factory: sessionmaker[Session], reads: int, pause: float
) -> dict[str, list[float]]:
    """Latency of reads while another thread publishes, ``pause`` seconds between its units
    of work (0: without pause): on an autocommit connection, and in a read-only unit of work."""
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            with unit(factory) as session:
                publish(session, 100_000 + n)
            n += 1
            time.sleep(pause)

    thread = threading.Thread(target=writer)
    thread.start()
    timings: dict[str, list[float]] = {"autocommit read": [], "read-only unit of work": []}
    count = select(func.count()).select_from(Article)
    try:
        for _ in range(reads):
            began = time.perf_counter()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(count)
            timings["autocommit read"].append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            with unit(factory) as session:
                session.execute(count)
            timings["read-only unit of work"].append((time.perf_counter() - began) * 1000)
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=240, help="units of work per row")
    parser.add_argument("--threads", default="1,4,8")
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument(
        "--pauses", default="0,0.02", help="seconds between the writer's units while reads are timed (0: saturated)"
    )
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]

    print(f"SQLite {BENCH_DIR}, {args.units} units of work a row; ms per unit of work")
    print(f"{'engine':<10} {'work':<8} {'threads':>7} {'units/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6}")
    factories: dict[str, sessionmaker[Session]] = {}
    for mode, build in (("deferred", deferred_engine), ("immediate", make_engine)):
        url = f"sqlite:///{BENCH_DIR / f'{mode}.db'}"
        upgrade(url)
        factories[mode] = sessionmaker(bind=build(url), expire_on_commit=False)
        with unit(factories[mode]) as session:  # warm: connections, compiled statements
            session.execute(text("SELECT 1"))
    # Each row for both engines back to back, so that a busy host weighs on both alike.
    for name, work in (("publish", publish), ("sign-up", sign_up)):
        for threads in counts:
            for mode, factory in factories.items():
                seconds, latencies, errors = hammer(factory, work, threads, args.units)
                print(
                    f"{mode:<10} {name:<8} {threads:>7} {len(latencies) / seconds:>8.0f} "
                    f"{percentile(latencies, 50):>7.1f} {percentile(latencies, 95):>7.1f} "
                    f"{percentile(latencies, 99):>7.1f} {errors:>6}"
                )
    for pause in (float(p) for p in args.pauses.split(",")):
        for mode, factory in factories.items():
            engine = factory.kw["bind"]
            for kind, timings in reads_under_writes(engine, factory, args.reads, pause).items():
                print(
                    f"{mode:<10} {kind}, a publish every {pause * 1000:.0f} ms + its own time: "
                    f"p50 {percentile(timings, 50):.2f} ms, p95 {percentile(timings, 95):.2f} ms, "
                    f"max {max(timings):.2f} ms, mean {statistics.fmean(timings):.2f} ms"
                )


if __name__ == "__main__":
    main()
