"""Beat's and the workers' view of deliveries: release rows whose batch died, and hand
the broker what is due, at most ``delivery_queue_window`` batches ahead of the workers.

A pending row's ``lease_until`` says whether it is in the broker's hands: NULL (or past)
means not, so it is due for publishing; in the future means a batch message carrying
it was handed to the broker at ``lease_until - delivery_lease_seconds``. Large
audiences are planned without leases and published here as workers take batches
(decision 0044), so a batch never waits out its lease in a long queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.db.models import Delivery, DeliveryStatus, Subscription
from service.db.statements import among
from service.deliveries.routing import defer_sending

# Batches' worth of due rows one sweep hands out; the next sweep takes the rest.
BATCHES_PER_SWEEP = 50


def release_stuck(session: Session, now: datetime) -> int:
    """Rows a batch claimed and never reported on (worker killed): due again, same id."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
        .values(status=DeliveryStatus.PENDING.value, lease_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def claim_due(session: Session, now: datetime, settings: Settings, limit: int | None = None) -> list[str]:
    """Ids of pending rows that are due and not held, leased so that the next sweep skips them.

    At most ``limit`` rows (``BATCHES_PER_SWEEP`` batches by default), the longest due
    first. They are sent in batches once the caller commits; their lease counts from then.
    """
    if limit is None:
        limit = settings.delivery_batch_size * BATCHES_PER_SWEEP
    if limit <= 0:
        return []
    query = (
        select(Delivery.id, Subscription.channel)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
    )
    # With each row's channel: WebSub subscribers' deliveries go to their own queue (decision 0031).
    due = [(delivery_id, channel) for delivery_id, channel in session.execute(query)]
    ids = [delivery_id for delivery_id, _ in due]
    if ids:
        session.execute(
            update(Delivery)
            # One bound array on PostgreSQL: after every batch (``feed``) this is 500 ids.
            .where(among(session, Delivery.id, ids))
            .values(lease_until=now + timedelta(seconds=settings.delivery_lease_seconds))
            .execution_options(synchronize_session=False)
        )
        defer_sending(session, due)
    return ids


def queued(session: Session, now: datetime) -> int:
    """Pending rows whose batch message is in the broker's hands (leased, not yet claimed)."""
    query = select(func.count()).where(Delivery.status == DeliveryStatus.PENDING, Delivery.lease_until >= now)
    return int(session.scalar(query) or 0)


def top_up(session: Session, now: datetime, settings: Settings, most: int | None = None) -> list[str]:
    """Publish due rows until ``delivery_queue_window`` batches are in the broker's hands
    (at most ``most`` rows); returns their ids (sent once the caller commits).

    Used after each planning chunk and by the sweep; one ``count`` over the pending rows
    (≈ 0.1 s with a million pending, decision 0044), so not once per batch.
    """
    room = settings.delivery_queue_window * settings.delivery_batch_size - queued(session, now)
    return claim_due(session, now, settings, room if most is None else min(room, most))


def feed(session: Session, now: datetime, settings: Settings) -> list[str]:
    """One more batch of due rows, published in place of the one a worker just finished:
    the queue stays at its window without counting it (decision 0044)."""
    return claim_due(session, now, settings, settings.delivery_batch_size)
