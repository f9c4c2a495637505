"""Calendar at scale: 10,000 key dates, a year of reminders planned, the due-scan timed.

    python -m bench.calendar [--key-dates 10000]

Runs in-process on a fresh PostgreSQL database. Prints the time to plan a year of
reminders and the due-reminder scan (the query beat's calendar.tick runs every few
seconds, with its row locks), best and median of 50, next to the same query with
PostgreSQL's index scans turned off (the reference: what the index buys). Goal: the
scan under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from tests.integration.conftest import create_database, drop_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--key-dates", type=int, default=10_000)
    args = parser.parse_args()

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    os.environ["BANTIN_DATABASE_URL"] = create_database(name)
    from config.settings import get_settings
    from service.calendar.reminders import due_reminders, plan_all
    from service.db.engine import get_engine, get_sessionmaker, session_scope
    from service.db.migrate import upgrade
    from service.db.models import KeyDate, Reminder

    get_settings.cache_clear()
    try:
        upgrade()
        rng = random.Random(2027)
        now = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
        with session_scope() as session:
            for n in range(args.key_dates):
                lunar = n % 5 == 0
                session.add(
                    KeyDate(
                        id=f"kd-{n}",
                        name=f"Ngày kỷ niệm số {n}",
                        calendar="lunar" if lunar else "solar",
                        day=rng.randint(1, 29 if lunar else 28),
                        month=rng.randint(1, 12),
                        leap_month=False,
                        origin_year=rng.randint(1900, 2000),
                        scope="local",
                        tags=[],
                        offsets=[30, 7, 1, 0],
                        send_time="08:00",
                        events_to={},
                        templates={},
                        active=True,
                        source="api",
                        created_at=now,
                        updated_at=now,
                    )
                )
        started = time.perf_counter()
        with session_scope() as session:
            planned = plan_all(session, now, get_settings())
        planning = time.perf_counter() - started
        with session_scope() as session:
            rows = session.scalar(select(func.count()).select_from(Reminder))

        # A morning in the middle of the year, in the steady state: what fell due before
        # has been sent, and this morning's 08:00 reminders (about 1/365 of them) are due.
        scan_at = datetime(2027, 6, 15, 1, 0, 30, tzinfo=UTC)
        with session_scope() as session:
            session.execute(
                text("UPDATE reminders SET status = 'sent' WHERE due_at < :before"),
                {"before": scan_at - timedelta(hours=1)},
            )
            session.execute(text("ANALYZE reminders"))
        timings, reference = [], []
        maker = get_sessionmaker()
        for _ in range(50):
            session = maker()
            started = time.perf_counter()
            due = due_reminders(session, scan_at)
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
            session.close()
        for _ in range(10):
            session = maker()
            session.execute(text("SET LOCAL enable_indexscan = off"))
            session.execute(text("SET LOCAL enable_bitmapscan = off"))
            started = time.perf_counter()
            due_reminders(session, scan_at)
            reference.append((time.perf_counter() - started) * 1000)
            session.rollback()
            session.close()
        overdue = len(due)
        # /calendar.ics is rendered when a key date changes (in that request) or the day does.
        from service.calendar.service import render_calendar

        with session_scope() as session:
            started = time.perf_counter()
            render_calendar(session, scan_at, get_settings())
            rendering = time.perf_counter() - started
            ics_bytes = len(session.execute(text("SELECT body FROM feed_documents WHERE scope = 'calendar'")).one()[0])
    finally:
        get_engine().dispose()
        drop_database(name)

    print(f"calendar: {args.key_dates:,} key dates (1 in 5 lunar), offsets 30/7/1/0, PostgreSQL")
    print(
        f"  planned {planned:,} reminders ({rows:,} rows, {get_settings().reminder_horizon_days} days ahead) "
        f"in {planning:.1f} s"
    )
    print(f"  due-scan at {scan_at:%Y-%m-%d %H:%M} UTC: {overdue:,} rows due (limit 1,000 a scan), locked SKIP LOCKED")
    print(
        f"    best {min(timings):6.1f} ms   median {statistics.median(timings):6.1f} ms   "
        f"max {max(timings):6.1f} ms   (goal < 100 ms)"
    )
    print(f"  reference, same query without index scans: median {statistics.median(reference):6.1f} ms")
    print(f"  /calendar.ics rendered and stored in {rendering:.2f} s ({ics_bytes:,} bytes, two years)")


if __name__ == "__main__":
    main()
