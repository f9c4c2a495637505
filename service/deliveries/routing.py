"""Which task sends a delivery: WebSub content distribution has a task, and so a queue, of its own.

A WebSub subscriber's callback is a third party's server that may answer slowly or not
at all, and its deliveries are planned by the same event that renders the feeds; its
batches go as ``websub.distribute`` to the ``websub`` queue, every other channel's as
``deliveries.send_batch`` to ``deliveries``, and neither queue is consumed by a worker
that renders feeds (docs/decisions/0031-third-parties-off-the-feed-workers.md). Both
tasks run the same ``send_batch``: only the queue differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import task_names
from service.db.after_commit import defer_batched
from service.db.models import Delivery, Subscription
from service.deliveries.planning import FEED_CHANNELS


def task_for(channel: str) -> str:
    """The task name that sends a delivery on ``channel``."""
    return task_names.DISTRIBUTE_WEBSUB if channel in FEED_CHANNELS else task_names.SEND_DELIVERY_BATCH


def defer_sending(session: Session, deliveries: Iterable[tuple[str, str]]) -> None:
    """Send (delivery id, channel) pairs in batches after commit, each by its channel's task."""
    for delivery_id, channel in deliveries:
        defer_batched(session, task_for(channel), [delivery_id])


def channels_of(session: Session, delivery_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(delivery id, channel) of ``delivery_ids``, in their order (an unknown id is left out)."""
    if not delivery_ids:
        return []
    query = (
        select(Delivery.id, Subscription.channel)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.id.in_(delivery_ids))
    )
    found: dict[str, str] = dict(session.execute(query).tuples().all())
    return [(delivery_id, found[delivery_id]) for delivery_id in delivery_ids if delivery_id in found]
