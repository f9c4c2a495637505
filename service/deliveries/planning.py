"""Plan announcements: one row per announcement, one delivery row per matching subscription.

Rows are inserted in bulk; the unique (announcement, subscription) pair and the unique
``source_key`` stop double planning when an event is handled twice (ARCHITECTURE.md decision 3).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
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
    resume: bool = False,
) -> list[str]:
    """Create the announcement and its deliveries to ``audience``; returns the new delivery
    ids (none if planned before). The new deliveries are sent in batches once the caller commits.

    ``resume``: an announcement already made under ``source_key`` is completed — every
    matching subscription it has no row for gets one — instead of left alone. Only for
    a caller whose own row records that planning finished (an event's ``announced_at``,
    decision 22); the unique (announcement, subscription) pair keeps a row from being
    planned twice. A large audience of every follower is planned in chunks instead
    (``plan_chunk``).
    """
    created = create_announcement(session, source_key, event_type, payload, now)
    if created is None:
        if not resume:
            return []  # already planned: its pending deliveries are the sweep's
        created = session.execute(select(Announcement.id).where(Announcement.source_key == source_key)).scalar_one()
    if isinstance(audience, Followers) and not audience.narrowed and session.get_bind().dialect.name == "postgresql":
        # Every follower, matched by PostgreSQL; published up to the queue window (decision 0044).
        categories = list(audience.categories) if audience.categories is not None else None
        planned_pg = list(session.scalars(_PG_PLAN_ALL, _plan_params(created, event_type, categories, now)))
        _top_up(session, now, settings)
        return planned_pg
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
    handed: bool = True,
) -> list[str]:
    """Pending delivery rows, one per subscription; returns their ids.

    ``handed``: the caller publishes their batches now (leased); False leaves them for
    ``sweep.top_up``, which hands them to the broker as workers take them.

    ``ids`` (one per subscription) when the caller recorded them beforehand (a digest row
    names its delivery); new ones otherwise.
    """
    # Held back from the due-sweep while the batch messages are on their way; without a
    # lease when the caller leaves the handing to the broker to ``sweep.top_up`` (decision 0044).
    lease = now + timedelta(seconds=settings.delivery_lease_seconds) if handed else None
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


@dataclass(frozen=True)
class Chunk:
    """What one planning chunk did: ``planned`` new rows, and whether the audience is complete."""

    planned: int
    done: bool


def plan_chunk(
    session: Session,
    *,
    source_key: str,
    event_type: str,
    payload: Mapping[str, Any],
    now: datetime,
    settings: Settings,
    categories: tuple[str, ...] | None,
    size: int,
) -> Chunk:
    """The next ``size`` followers (``Followers(categories)``) of the announcement under
    ``source_key``, by subscription id: created on the first call, continued after the
    highest subscription id it has a row for on each later one.

    Each chunk is its caller's transaction, so none holds more than ``size`` rows and a
    planner stopped between two (a worker killed, a time limit) is continued by the next
    call, each subscriber planned exactly once (the unique announcement × subscription
    pair besides). On PostgreSQL the rows are written without a lease and handed to the
    broker up to the queue window (``sweep.top_up``, decision 0044); elsewhere the whole
    audience is planned by ``plan_announcement`` in one chunk.
    """
    if session.get_bind().dialect.name != "postgresql":
        planned = plan_announcement(
            session,
            source_key=source_key,
            event_type=event_type,
            payload=payload,
            now=now,
            settings=settings,
            audience=Followers(categories=categories),
            resume=True,
        )
        return Chunk(len(planned), done=True)
    created = create_announcement(session, source_key, event_type, payload, now)
    if created is None:
        created = session.execute(select(Announcement.id).where(Announcement.source_key == source_key)).scalar_one()
        # Chunks commit in subscription id order: everything up to the highest is planned.
        after = session.scalar(select(func.max(Delivery.subscription_id)).where(Delivery.announcement_id == created))
    else:
        after = None
    params = _plan_params(created, event_type, list(categories) if categories is not None else None, now)
    chosen, planned = session.execute(_PG_PLAN_CHUNK, {**params, "after": after or 0, "size": size}).one()
    _top_up(session, now, settings)
    return Chunk(int(planned), done=chosen < size)


def plan_named_chunk(
    session: Session,
    *,
    source_key: str,
    event_type: str,
    payload: Mapping[str, Any],
    now: datetime,
    settings: Settings,
    next_ids: Callable[[int, int], Sequence[int]],
    size: int,
) -> Chunk:
    """The next ``size`` subscriptions of a named audience too large for one statement (a
    correction's original recipients, decision 0043): ``next_ids(after, size)`` reads them
    in subscription id order after ``after``. Created on the first call and continued after
    the highest subscription id planned on each later one, as :func:`plan_chunk`; on
    PostgreSQL the rows are handed to the broker by ``sweep.top_up`` (decision 0044)."""
    created = create_announcement(session, source_key, event_type, payload, now)
    after = 0
    if created is None:
        created = session.execute(select(Announcement.id).where(Announcement.source_key == source_key)).scalar_one()
        last = session.scalar(select(func.max(Delivery.subscription_id)).where(Delivery.announcement_id == created))
        after = last or 0
    chosen = list(next_ids(after, size))
    on_pg = session.get_bind().dialect.name == "postgresql"
    planned = insert_deliveries(session, created, chosen, now, settings, handed=not on_pg)
    if on_pg:
        _top_up(session, now, settings)
    else:
        defer_batched(session, task_names.SEND_DELIVERY_BATCH, planned)
    return Chunk(len(planned), done=len(chosen) < size)


def _plan_params(announcement_id: int, event_type: str, categories: list[str] | None, now: datetime) -> dict[str, Any]:
    return {
        "announcement_id": announcement_id,
        "now": now,
        "event_type": event_type,
        "categories": categories,
        "feed_channels": sorted(FEED_CHANNELS),
    }


def _top_up(session: Session, now: datetime, settings: Settings) -> None:
    # Imported here: sweep → routing → planning would otherwise be a cycle.
    from service.deliveries.sweep import top_up

    top_up(session, now, settings)


# The same rule as ``matches``, evaluated by PostgreSQL: the rows never travel to Python
# and back, which is most of the planning time for thousands of subscribers. Rows are
# written without a lease: not yet handed to the broker (decision 0044).
_PG_FOLLOWERS = """
    SELECT s.id FROM subscriptions s
    WHERE s.status = 'active' AND s.channel <> ALL(:feed_channels) AND s.frequency = 'each'
      AND (json_array_length(s.events) = 0 OR s.events::jsonb ? :event_type)
      AND (CAST(:categories AS text[]) IS NULL OR json_array_length(s.categories) = 0
           OR s.categories::jsonb ?| CAST(:categories AS text[]))
"""
_PG_INSERT = """
    INSERT INTO deliveries (id, announcement_id, subscription_id, status, attempts, next_attempt_at, lease_until,
                            created_at)
    SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), :announcement_id, c.id, 'pending', 0, :now, NULL, :now
    FROM {source} c
    ON CONFLICT DO NOTHING
"""
_PG_PLAN_ALL = text(_PG_INSERT.format(source=f"({_PG_FOLLOWERS})") + " RETURNING id")
# One chunk: the next ``size`` followers after subscription ``after``, by id; how many were
# chosen (fewer than ``size``: the audience is complete) and how many rows are new.
_PG_PLAN_CHUNK = text(
    "WITH chosen AS (" + _PG_FOLLOWERS + " AND s.id > :after ORDER BY s.id LIMIT :size),"  # noqa: S608 - fixed fragments
    " planned AS (" + _PG_INSERT.format(source="chosen") + " RETURNING 1)"
    " SELECT (SELECT count(*) FROM chosen), (SELECT count(*) FROM planned)"
)


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
