"""Sending logged deliveries again, by hand: one (replay) or a subscription's failures (recover).

The deliveries keep their ids, so a receiver that de-duplicates on ``webhook-id`` sees
the same message again, not a new one. They are sent once the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db.models import Delivery, DeliveryStatus, Subscription, SubscriptionStatus
from service.deliveries.planning import FEED_CHANNELS
from service.deliveries.routing import channels_of, defer_sending
from service.errors import Conflict, NotFound


def recover(session: Session, subscription_id: int, since: datetime, now: datetime) -> list[str]:
    """Send the failed deliveries created since ``since`` again (same ids); returns their ids.

    Conflict if the subscription is not active; NotFound if it does not exist.
    """
    subscription = session.get(Subscription, subscription_id)
    # WebSub subscribers are the hub's, not an admin's: unknown here, as in the subscriptions API.
    if subscription is None or subscription.channel in FEED_CHANNELS:
        raise NotFound(f"subscription {subscription_id} does not exist")
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"subscription {subscription_id} is {subscription.status}; activate it first")
    ids = list(
        session.scalars(
            select(Delivery.id).where(
                Delivery.subscription_id == subscription_id,
                Delivery.status == DeliveryStatus.FAILED,
                Delivery.created_at >= since,
            )
        )
    )
    _requeue(session, ids, now)
    return ids


def replay(session: Session, delivery_id: str, now: datetime) -> Delivery:
    """Send one delivery again, whatever its state, with the same webhook-id.

    NotFound for an unknown id; Conflict while a batch is sending it.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    if delivery.status == DeliveryStatus.SENDING:
        raise Conflict(f"delivery {delivery_id} is being sent right now")
    _requeue(session, [delivery_id], now)
    session.refresh(delivery)
    return delivery


def _requeue(session: Session, ids: Sequence[str], now: datetime) -> None:
    if ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(status=DeliveryStatus.PENDING.value, next_attempt_at=now, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        defer_sending(session, channels_of(session, ids))
