"""The database half of a fan-out, without the network: claim and record batches of 500.

On a fresh PostgreSQL database with ``--subscribers`` webhook subscriptions and one
pending delivery each, runs ``claim`` and ``record_results`` (every result a 204) batch
after batch, as ``deliveries.send_batch`` does, and prints the CPU-seconds per 1,000
deliveries of this process (the worker's share: SQLAlchemy, psycopg, building the
messages) and of its PostgreSQL backend, both read from /proc. No network and no
Celery, so the figures are steadier than bench.fanout's on a busy machine.

    python -m bench.fanout_db [--subscribers 20000]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from bench.fanout_watch import cpu_seconds
from tests.integration.conftest import create_database, drop_database

BATCH = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=20000)
    count = parser.parse_args().subscribers

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    os.environ.update(
        BANTIN_ENVIRONMENT="test",
        BANTIN_DATABASE_URL=create_database(name),
        BANTIN_BROKER_URL="memory://",
        BANTIN_BASE_URL="https://bantin.example.vn",
    )
    from config.settings import get_settings
    from service.channels.messages import SendResult
    from service.db.engine import get_engine, session_scope
    from service.db.migrate import upgrade
    from service.deliveries.outcomes import record_results
    from service.deliveries.sender import claim

    try:
        upgrade()
        ids = _plan(count)
        settings, delivered = get_settings(), SendResult(ok=True, status_code=204, duration_ms=3)
        with session_scope() as session:  # the pool hands this one connection back every time
            backend = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
        ours, theirs = time.process_time(), cpu_seconds(backend)
        for start in range(0, count, BATCH):
            with session_scope() as session:
                messages = claim(session, ids[start : start + BATCH], datetime.now(UTC), settings)
            with session_scope() as session:
                record_results(session, [(m, delivered) for m in messages], datetime.now(UTC), settings)
        ours, theirs = time.process_time() - ours, cpu_seconds(backend) - theirs
    finally:
        get_engine().dispose()
        drop_database(name)
    print(f"claim + record, {count} deliveries in batches of {BATCH}, CPU-seconds per 1,000 deliveries:")
    print(f"  this process (the worker's share) {ours * 1000 / count:.3f}")
    print(f"  its PostgreSQL backend            {theirs * 1000 / count:.3f}")


def _plan(count: int) -> list[str]:
    """Subscriptions and one pending delivery each, written by PostgreSQL itself."""
    from service.db.engine import session_scope

    with session_scope() as session:
        session.execute(
            text("""
            INSERT INTO subscriptions (channel, target, events, categories, locale, options, status, secret,
                                       unsubscribe_token, created_at, updated_at)
            SELECT 'webhook', 'http://127.0.0.1:9/hooks/' || g, '[]', '[]', 'vi', '{}', 'active',
                   'whsec_' || md5(g::text), md5('t' || g), now(), now()
            FROM generate_series(1, :count) g
        """),
            {"count": count},
        )
        session.execute(
            text("INSERT INTO announcements (source_key, type, payload, created_at) VALUES ('bench', 'x', '{}', now())")
        )
        session.execute(
            text("""
            INSERT INTO deliveries (id, announcement_id, subscription_id, status, attempts, next_attempt_at, created_at)
            SELECT 'msg_' || lpad(s.id::text, 32, '0'), a.id, s.id, 'pending', 0, now(), now()
            FROM subscriptions s CROSS JOIN announcements a
        """)
        )
        session.execute(text("ANALYZE"))
    return [f"msg_{n:032d}" for n in range(1, count + 1)]


if __name__ == "__main__":
    main()
