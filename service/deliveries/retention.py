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

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from service.db.engine import UnitOfWork
from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription

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
    _keep_last_successes(session, ids, cutoff)
    # Explicitly rather than by the foreign key's cascade: SQLite enforces it only when asked.
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids)))
    session.execute(delete(Delivery).where(Delivery.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


def _keep_last_successes(session: Session, ids: list[str], cutoff: datetime) -> None:
    """Before these delivered rows go, fold the newest into ``success_before_purge`` of each
    subscription that has no later success in the log, so its last success (decision 0052)
    outlives the log. A subscription still reached since ``cutoff`` is not written: its log
    answers, and the column only matters once the log is empty. One statement.
    """
    newest = (
        select(func.max(Delivery.delivered_at))
        .where(Delivery.id.in_(ids), Delivery.subscription_id == Subscription.id)
        .scalar_subquery()
    )
    reached_since = (
        select(Delivery.id)
        .where(
            Delivery.subscription_id == Subscription.id,
            Delivery.status == DeliveryStatus.DELIVERED,
            Delivery.delivered_at >= cutoff,
        )
        .exists()
    )
    # Locked in id order, as every writer of subscriptions takes them (outcomes._update_locked).
    locked = (
        select(Subscription.id)
        .where(Subscription.id.in_(select(Delivery.subscription_id).where(Delivery.id.in_(ids))))
        .order_by(Subscription.id)
        .with_for_update()
    )
    session.execute(
        update(Subscription)
        .where(
            Subscription.id.in_(locked.scalar_subquery()),
            ~reached_since,
            or_(Subscription.success_before_purge.is_(None), Subscription.success_before_purge < newest),
        )
        .values(success_before_purge=newest)
        .execution_options(synchronize_session=False)
    )


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
