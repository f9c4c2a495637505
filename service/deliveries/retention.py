"""Delivery-log retention: delivered rows older than BANTIN_DELIVERY_RETENTION_DAYS go.

One row per announcement × subscription makes the log the largest table by far
(a million subscribers: a million rows per announcement). Only *delivered* rows are
deleted: pending ones are work, failed ones are what an operator investigates or
replays. Deleting happens in chunks of :data:`CHUNK_ROWS`, each its own short
transaction, so no statement holds locks on (or writes WAL for) millions of rows at
once, and a tick stops after :data:`CHUNKS_PER_TICK`; the next tick continues.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.db.engine import UnitOfWork
from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus

CHUNK_ROWS = 5_000
CHUNKS_PER_TICK = 4


def purge_chunk(session: Session, cutoff: datetime, limit: int = CHUNK_ROWS) -> int:
    """Delete up to ``limit`` deliveries delivered before ``cutoff``, attempts first; returns the count.

    The rows are found through the ``(status, next_attempt_at)`` index: a delivered row's
    last attempt was due no later than it was delivered, so ``next_attempt_at < cutoff``
    narrows the range and ``delivered_at < cutoff`` decides.
    """
    ids = list(
        session.scalars(
            select(Delivery.id)
            .where(
                Delivery.status == DeliveryStatus.DELIVERED,
                Delivery.next_attempt_at < cutoff,
                Delivery.delivered_at < cutoff,
            )
            .limit(limit)
        )
    )
    if not ids:
        return 0
    # Explicitly rather than by the foreign key's cascade: SQLite enforces it only when asked.
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids)))
    session.execute(delete(Delivery).where(Delivery.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


def purge_delivered(
    unit_of_work: UnitOfWork,
    now: datetime,
    retention_days: float,
    chunk_rows: int = CHUNK_ROWS,
    max_chunks: int = CHUNKS_PER_TICK,
) -> int:
    """Run up to ``max_chunks`` chunks, one transaction each; returns the rows deleted."""
    cutoff = now - timedelta(days=retention_days)
    deleted = 0
    for _ in range(max_chunks):
        with unit_of_work() as session:
            removed = purge_chunk(session, cutoff, chunk_rows)
        deleted += removed
        if removed < chunk_rows:
            break
    return deleted
