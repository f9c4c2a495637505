"""Announcing an article event to subscribers: the payload they receive, planned once per event."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service import task_names
from service.articles.corrections import Correction
from service.articles.urls import article_url
from service.db.after_commit import defer
from service.db.engine import UnitOfWork
from service.db.models import (
    Announcement,
    Article,
    ArticleCorrection,
    Delivery,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    Subscription,
    SubscriptionStatus,
)
from service.deliveries.planning import Chunk, plan_chunk, plan_named_chunk
from service.feeds.scopes import SITE
from service.feeds.urls import feed_url
from service.text import excerpt

# An article's excerpt in a message: a few lines on a phone.
EXCERPT_CHARS = 300


def article_payload(article: Article, base_url: str) -> dict[str, Any]:
    """What an ``article.*`` announcement carries: the article's public fields and the site feed.

    Times are ISO 8601 in UTC; ``url`` is the public page (``article_url``); ``excerpt`` at
    most EXCERPT_CHARS characters (``service.text.excerpt``).
    """
    return {
        "article": {
            "id": article.id,
            "guid": article.guid,
            "title": article.title,
            "summary": article.summary,
            # The summary, else the start of the body cut between words: what a message shows.
            "excerpt": excerpt(article.summary, article.body_html, EXCERPT_CHARS),
            "url": article_url(article, base_url),
            "author": article.author,
            "categories": [{"name": c.name, "slug": c.slug} for c in article.categories],
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "updated_at": article.updated_at.isoformat(),
            "image_url": article.image_url,
        },
        "links": {"feed": feed_url(base_url, SITE, "atom")},
    }


def source_key(event_id: int) -> str:
    """The announcement of an outbox event is planned once under this key: ``event:<id>``."""
    return f"event:{event_id}"


def original_recipients(session: Session, article_id: int, after: int = 0, limit: int | None = None) -> tuple[int, ...]:
    """Who a correction of ``article_id`` goes to (decision 0043): the subscriptions whose
    delivery of the article's ``article.published`` announcement (any of them, if it was
    published, unpublished and published again) succeeded, and that are still active. A
    reader who has unsubscribed since, one who subscribed after, one whose delivery failed
    or is still pending, a digest reader (who got the article in a digest): none of them.

    Indexed all the way: the article's events (ix_outbox_events_article), their
    announcements by the unique source key, their deliveries by the unique
    (announcement, subscription) pair. Ids ascending, those above ``after``, at most
    ``limit`` (a chunk of the planning).
    """
    events = session.scalars(
        select(OutboxEvent.id).where(
            OutboxEvent.article_id == article_id, OutboxEvent.type == EventType.ARTICLE_PUBLISHED.value
        )
    ).all()
    if not events:
        return ()
    rows = session.scalars(
        select(Delivery.subscription_id)
        .distinct()
        .join(Announcement, Announcement.id == Delivery.announcement_id)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(
            Announcement.source_key.in_([source_key(e) for e in events]),
            Delivery.status == DeliveryStatus.DELIVERED.value,
            Subscription.status == SubscriptionStatus.ACTIVE.value,
            Delivery.subscription_id > after,
        )
        .order_by(Delivery.subscription_id)
        .limit(limit)
    )
    return tuple(rows)


def announce_event(
    unit_of_work: UnitOfWork, event_id: int, now: datetime, settings: Settings, budget_seconds: float | None = None
) -> int:
    """Plan an article event's deliveries, a chunk per unit of work; returns how many were planned.

    The first chunk is one batch, committed (and so sent) on its own before the rest are
    planned: its receivers do not wait for the whole audience (decision 22). The rest go
    ``PLAN_CHUNK`` subscriptions at a time, so no transaction holds a million rows; a
    planner stopped between chunks is continued by the next call (the sweep re-sends an
    event whose ``announced_at`` is empty), each subscriber planned once (decision 0044).
    After ``budget_seconds`` (the task's share of its time limit) no chunk is started: the
    last one's commit sends ``events.announce`` again, which goes on where it stopped.
    """
    size, total, started = settings.delivery_batch_size, 0, time.monotonic()
    while True:
        with unit_of_work() as session:
            chunk = plan_event_chunk(session, event_id, now, settings, size)
            out_of_time = budget_seconds is not None and time.monotonic() - started > budget_seconds
            if out_of_time and not chunk.done:
                defer(session, task_names.ANNOUNCE_EVENT, event_id)
        total += chunk.planned
        if chunk.done or out_of_time:
            return total
        size = PLAN_CHUNK


# Subscriptions per planning transaction after the first batch: ≈ 1.5 s of PostgreSQL work
# and 35 MB of new rows each on the 2-core host (a million subscribers: 20 chunks).
PLAN_CHUNK = 50_000


def plan_event_chunk(session: Session, event_id: int, now: datetime, settings: Settings, size: int) -> Chunk:
    """The next chunk of at most ``size`` deliveries of an article event's announcement
    (``plan_chunk``); the article's current state is what subscribers see.

    The chunk that completes the audience marks the event announced; nothing is planned
    for an event announced before, missing, or whose article is gone. An event whose
    planning stopped half way (a worker died between chunks) is continued, not planned
    again, whichever call finds it: its ``announced_at`` is still empty and the sweep
    sends it again.
    """
    event = session.get(OutboxEvent, event_id, with_for_update=True)
    if event is None or event.announced_at is not None:
        return Chunk(0, done=True)
    article = session.get(Article, event.article_id) if event.article_id is not None else None
    if article is None:
        event.announced_at = now
        return Chunk(0, done=True)
    payload = article_payload(article, settings.base_url)
    if event.type == EventType.ARTICLE_CORRECTED.value:
        correction = session.get(ArticleCorrection, event.payload.get("correction_id"))
        if correction is None:
            event.announced_at = now
            return Chunk(0, done=True)
        payload["correction"] = Correction.of(correction).as_payload()
        chunk = plan_named_chunk(
            session,
            source_key=source_key(event.id),
            event_type=event.type,
            payload=payload,
            now=now,
            settings=settings,
            next_ids=lambda after, limit: original_recipients(session, article.id, after, limit),
            size=size,
        )
    else:
        chunk = plan_chunk(
            session,
            source_key=source_key(event.id),
            event_type=event.type,
            payload=payload,
            now=now,
            settings=settings,
            categories=tuple(c.slug for c in article.categories),
            size=size,
        )
    if chunk.done:
        event.announced_at = now
    return chunk


def plan_event_announcement(session: Session, event_id: int, now: datetime, settings: Settings) -> int:
    """The whole audience of an event in the caller's transaction (tests, small audiences);
    returns how many deliveries were planned."""
    planned = 0
    while not (chunk := plan_event_chunk(session, event_id, now, settings, PLAN_CHUNK)).done:
        planned += chunk.planned
    return planned + chunk.planned
