"""Beat's view of deliveries: release rows whose batch died, and pick up what is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.db.models import Delivery, DeliveryStatus, Subscription
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


def claim_due(session: Session, now: datetime, settings: Settings) -> list[str]:
    """Ids of pending rows that are due and not held, leased so that the next sweep skips them.

    They are sent in batches once the caller commits.
    """
    limit = settings.delivery_batch_size * BATCHES_PER_SWEEP
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
            .where(Delivery.id.in_(ids))
            .values(lease_until=now + timedelta(seconds=settings.delivery_lease_seconds))
            .execution_options(synchronize_session=False)
        )
        defer_sending(session, due)
    return ids
