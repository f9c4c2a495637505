"""The database half of a /metrics scrape on a large delivery log.

    python -m bench.metrics_scrape [--deliveries 2000000]

Fills a fresh PostgreSQL database with ``--subscriptions`` and ``--deliveries`` rows (in SQL, 1 % of them
recent, a small pending backlog, the rest delivered weeks ago), then times
``snapshot()`` — every query the API's collector runs per scrape — best and median of
20, next to the reference: the hand-written /metrics it replaced, a ``GROUP BY status``
over the whole table. Goal: under 50 ms. Ours grows with the rows in the recent window
and the backlog (1 % and 0.1 % of the table here), not with the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from tests.integration.conftest import create_database, drop_database


def timed(run: Callable[[], object], repeat: int = 20) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=2_000_000)
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    args = parser.parse_args()

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    os.environ["BANTIN_DATABASE_URL"] = create_database(name)
    from config.settings import get_settings
    from service.db.engine import get_engine, session_scope
    from service.db.migrate import upgrade
    from service.db.models import Delivery, Subscription
    from service.observability.database import recent_deliveries_by_status, snapshot, subscriptions_by_status

    get_settings.cache_clear()
    try:
        upgrade()
        now = datetime.now(UTC)
        started = time.perf_counter()
        with get_engine().begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO subscriptions (channel, target, status, options, locale, categories, events,"
                    " created_at, updated_at, unsubscribe_token)"
                    " SELECT CASE WHEN n % 3 = 0 THEN 'email' ELSE 'webhook' END, 'https://example.vn/hook',"
                    "  CASE WHEN n % 100 = 0 THEN 'disabled' WHEN n % 50 = 0 THEN 'paused' ELSE 'active' END,"
                    "  '{}', 'vi', '[]', '[]', now(), now(), 'bench' || n FROM generate_series(1, :n) n"
                ),
                {"n": args.subscriptions},
            )
            connection.execute(
                text(
                    "INSERT INTO announcements (source_key, type, payload, created_at)"
                    " SELECT 'bench:' || n, 'article.published', '{}', now() FROM generate_series(1, :n) n"
                ),
                {"n": args.deliveries // 1000 + 1},
            )
            # One subscription would make (announcement, subscription) collide: announcements × 1000
            # subscriptions is what a real log looks like; here ids only need to be unique.
            connection.execute(text("ALTER TABLE deliveries DROP CONSTRAINT uq_deliveries_announcement_subscription"))
            connection.execute(
                text(
                    "INSERT INTO deliveries (id, announcement_id, subscription_id, status, attempts, next_attempt_at,"
                    " created_at, delivered_at)"
                    " SELECT 'd' || n, n / 1000 + 1, (SELECT min(id) FROM subscriptions),"
                    "  CASE WHEN n % 1000 = 0 THEN 'pending' WHEN n % 997 = 0 THEN 'failed' ELSE 'delivered' END,"
                    "  1, t, t, CASE WHEN n % 1000 = 0 OR n % 997 = 0 THEN NULL ELSE t END"
                    " FROM (SELECT n, CASE WHEN n % 100 = 0 THEN now() - interval '10 minutes'"
                    "   ELSE now() - interval '20 days' END AS t FROM generate_series(1, :n) n) rows"
                ),
                {"n": args.deliveries},
            )
        # As autovacuum leaves a settled table: the visibility map lets counts use index-only scans.
        with get_engine().connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM ANALYZE deliveries"))
            autocommit.execute(text("VACUUM ANALYZE subscriptions"))
        print(
            f"{args.deliveries:,} deliveries, {args.subscriptions:,} subscriptions"
            f" inserted in {time.perf_counter() - started:.0f} s"
        )

        def ours() -> object:
            with session_scope() as session:
                return snapshot(session, now)

        def window() -> object:
            with session_scope() as session:
                return recent_deliveries_by_status(session, now)

        def subscriptions() -> object:
            with session_scope() as session:
                return subscriptions_by_status(session)

        def subscriptions_uncached() -> object:
            with session_scope() as session:
                return session.execute(
                    select(Subscription.status, Subscription.channel, func.count()).group_by(
                        Subscription.status, Subscription.channel
                    )
                ).all()

        def reference() -> object:
            with session_scope() as session:
                return session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()

        print(f"snapshot(): {ours()}")
        for label, run in (
            ("scrape queries (ours)", ours),
            ("  of which the 1-hour window", window),
            ("  of which subscriptions", subscriptions),
            ("  (every 5 min: active ones)", subscriptions_uncached),
            ("GROUP BY status (reference)", reference),
        ):
            best, median = timed(run)
            print(f"{label:<30} best {best:8.1f} ms   median {median:8.1f} ms")
    finally:
        get_engine().dispose()
        drop_database(name)


if __name__ == "__main__":
    main()
