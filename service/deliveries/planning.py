"""Plan announcements: one row per announcement, one delivery row per matching subscription.

Rows are inserted in bulk; the unique (announcement, subscription) pair and the unique
``source_key`` stop double planning when an event is handled twice (ARCHITECTURE.md decision 3).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from config.settings import Settings
from service import task_names
from service.db.after_commit import defer_batched
from service.db.models import Announcement, Delivery, DeliveryStatus, Subscription, SubscriptionStatus
from service.db.statements import insert_ignoring_duplicates

INSERT_CHUNK = 1000
# Channels whose subscriptions follow feeds, not events: planned by the WebSub hub.
FEED_CHANNELS = frozenset({"websub"})
EACH = "each"  # a subscription's frequency: one message per announcement
# The kind of the notice to the admin channel (its words: service/subscriptions/announcements.py).
DISABLED_NOTICE = "subscription.disabled"


def new_delivery_id() -> str:
    """A new delivery id, ``msg_`` and 32 hex digits; it is also the ``webhook-id``."""
    return f"msg_{uuid.uuid4().hex}"


def matches(
    subscription_events: Sequence[str],
    subscription_categories: Sequence[str],
    event_type: str,
    categories: Iterable[str] | None,
) -> bool:
    """Empty filters match everything; a category filter needs one shared category."""
    if subscription_events and event_type not in subscription_events:
        return False
    if subscription_categories and categories is not None:
        return bool(set(subscription_categories) & set(categories))
    return True


@dataclass(frozen=True)
class Followers:
    """Every active subscription that takes each announcement (frequency ``each``) and
    whose filters match: its events name the event type or are empty, and it shares a
    category with ``categories`` or has none (``categories`` None: the announcement has
    no categories, so every category filter matches). ``channels`` and
    ``subscription_ids`` narrow it further when not empty (a key date's ``events_to``)."""

    categories: tuple[str, ...] | None = None
    channels: tuple[str, ...] = ()
    subscription_ids: tuple[int, ...] = ()

    @property
    def narrowed(self) -> bool:
        """Whether only some channels or subscriptions are asked for."""
        return bool(self.channels or self.subscription_ids)


@dataclass(frozen=True)
class Named:
    """These subscriptions, whatever their status and filters: a reader's confirmation
    mail, an admin notice, a test message."""

    subscription_ids: tuple[int, ...]


# Who an announcement goes to.
Audience = Followers | Named
# Unless said otherwise: everyone who follows the event type, whatever their categories.
EVERY_FOLLOWER = Followers()


def plan_announcement(
    session: Session,
    *,
    source_key: str,
    event_type: str,
    payload: Mapping[str, Any],
    now: datetime,
    settings: Settings,
    audience: Audience = EVERY_FOLLOWER,
    first: int | None = None,
    resume: bool = False,
) -> list[str]:
    """Create the announcement and its deliveries to ``audience``; returns the new delivery
    ids (none if planned before). The new deliveries are sent in batches once the caller commits.

    ``first``: plan at most this many, lowest subscription ids first, so that the caller
    can commit and send them while it plans the rest (on PostgreSQL, for every follower;
    elsewhere, and for a narrowed or named audience, everything is planned at once).
    ``resume``: an announcement already made under ``source_key`` is completed — every
    matching subscription it has no row for gets one, ``first`` ignored — instead of
    left alone. Only for a caller whose own row records that planning finished (an
    event's ``announced_at``, decision 22); the unique (announcement, subscription)
    pair keeps a row from being planned twice.
    """
    created = create_announcement(session, source_key, event_type, payload, now)
    if created is None:
        if not resume:
            return []  # already planned: its pending deliveries are the sweep's
        created = session.execute(select(Announcement.id).where(Announcement.source_key == source_key)).scalar_one()
        first = None
    if isinstance(audience, Followers) and not audience.narrowed and session.get_bind().dialect.name == "postgresql":
        categories = list(audience.categories) if audience.categories is not None else None
        planned = _insert_matching_deliveries_pg(session, created, event_type, categories, now, settings, first)
    else:
        subscriber_ids = _recipients(session, audience, event_type)
        if resume:
            planned_before = set(
                session.scalars(select(Delivery.subscription_id).where(Delivery.announcement_id == created))
            )
            subscriber_ids = [s for s in subscriber_ids if s not in planned_before]
        planned = insert_deliveries(session, created, subscriber_ids, now, settings)
    defer_batched(session, task_names.SEND_DELIVERY_BATCH, planned)
    return planned


def _recipients(session: Session, audience: Audience, event_type: str) -> list[int]:
    """The subscription ids ``audience`` means for ``event_type``, read and matched here."""
    if isinstance(audience, Named):
        # Named outright (an admin notice, a reader's confirmation mail): any status, any filter.
        return list(session.scalars(select(Subscription.id).where(Subscription.id.in_(audience.subscription_ids))))
    columns = (Subscription.id, Subscription.events, Subscription.categories)
    query = select(*columns).where(
        Subscription.status == SubscriptionStatus.ACTIVE,
        Subscription.channel.not_in(FEED_CHANNELS),
        # Digest readers (daily, weekly) get their articles in the digest, not one by one.
        Subscription.frequency == EACH,
    )
    if audience.channels:
        query = query.where(Subscription.channel.in_(audience.channels))
    if audience.subscription_ids:
        query = query.where(Subscription.id.in_(audience.subscription_ids))
    return [
        row.id for row in session.execute(query) if matches(row.events, row.categories, event_type, audience.categories)
    ]


def create_announcement(
    session: Session, source_key: str, event_type: str, payload: Mapping[str, Any], now: datetime
) -> int | None:
    """The new announcement's id, or None when ``source_key`` was planned before."""
    created: int | None = session.execute(
        insert_ignoring_duplicates(session, Announcement)
        .values(source_key=source_key, type=event_type, payload=dict(payload), created_at=now)
        .returning(Announcement.id)
    ).scalar_one_or_none()
    return created


def insert_deliveries(
    session: Session,
    announcement_id: int,
    subscription_ids: Sequence[int],
    now: datetime,
    settings: Settings,
    ids: Sequence[str] | None = None,
) -> list[str]:
    """Pending delivery rows, one per subscription; returns their ids.

    ``ids`` (one per subscription) when the caller recorded them beforehand (a digest row
    names its delivery); new ones otherwise.
    """
    # Held back from the due-sweep while the batch messages are on their way.
    lease = now + timedelta(seconds=settings.delivery_lease_seconds)
    ids = list(ids) if ids is not None else [new_delivery_id() for _ in subscription_ids]
    rows = [
        {
            "id": delivery_id,
            "announcement_id": announcement_id,
            "subscription_id": subscription_id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "lease_until": lease,
            "created_at": now,
        }
        for delivery_id, subscription_id in zip(ids, subscription_ids, strict=True)
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert_ignoring_duplicates(session, Delivery), rows[start : start + INSERT_CHUNK])
    return ids


# The same rule as ``matches``, evaluated by PostgreSQL: the rows never travel to Python
# and back, which is most of the planning time for thousands of subscribers. ``{first}``
# is empty (everything) or an ORDER BY … LIMIT (the first rows, sent while the rest are planned).
_PG_PLAN = """
    INSERT INTO deliveries (id, announcement_id, subscription_id, status, attempts, next_attempt_at, lease_until,
                            created_at)
    SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), :announcement_id, s.id, 'pending', 0, :now,
           :lease, :now
    FROM subscriptions s
    WHERE s.status = 'active' AND s.channel <> ALL(:feed_channels) AND s.frequency = 'each'
      AND (json_array_length(s.events) = 0 OR s.events::jsonb ? :event_type)
      AND (CAST(:categories AS text[]) IS NULL OR json_array_length(s.categories) = 0
           OR s.categories::jsonb ?| CAST(:categories AS text[]))
    {first}
    ON CONFLICT DO NOTHING
    RETURNING id
"""
_PG_PLAN_ALL = text(_PG_PLAN.format(first=""))
_PG_PLAN_FIRST = text(_PG_PLAN.format(first="ORDER BY s.id LIMIT :first"))


def _insert_matching_deliveries_pg(
    session: Session,
    announcement_id: int,
    event_type: str,
    categories: list[str] | None,
    now: datetime,
    settings: Settings,
    first: int | None,
) -> list[str]:
    lease = now + timedelta(seconds=settings.delivery_lease_seconds)
    params = {
        "announcement_id": announcement_id,
        "now": now,
        "lease": lease,
        "event_type": event_type,
        "categories": categories,
        "feed_channels": sorted(FEED_CHANNELS),
    }
    if first is None:
        return list(session.scalars(_PG_PLAN_ALL, params))
    return list(session.scalars(_PG_PLAN_FIRST, {**params, "first": first}))


def plan_disabled_notices(
    session: Session, subscription_ids: Sequence[int], now: datetime, settings: Settings
) -> list[str]:
    """Tell the admin channel (BANTIN_ADMIN_SUBSCRIPTION_ID) which subscriptions were disabled.

    Returns the notices' delivery ids (sent once the caller commits).
    """
    admin_id = settings.admin_subscription_id
    if admin_id is None:
        return []
    planned: list[str] = []
    for subscription in session.scalars(select(Subscription).where(Subscription.id.in_(subscription_ids))):
        if subscription.id == admin_id:
            continue  # the admin channel itself is dead: nowhere to tell
        message = f"#{subscription.id} ({subscription.channel}): {subscription.status_reason}"
        planned += plan_announcement(
            session,
            source_key=f"disabled:{subscription.id}:{now.isoformat()}",
            event_type=DISABLED_NOTICE,
            payload={
                "subscription_id": subscription.id,
                "channel": subscription.channel,
                "reason": subscription.status_reason,
                "message": message,
            },
            now=now,
            settings=settings,
            audience=Named((admin_id,)),
        )
    return planned
