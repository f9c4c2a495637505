"""Announcing an article event to subscribers: the payload they receive, planned once per event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.corrections import Correction
from service.articles.urls import article_url
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
from service.deliveries.planning import Audience, Followers, Named, plan_announcement
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


def original_recipients(session: Session, article_id: int) -> tuple[int, ...]:
    """Who a correction of ``article_id`` goes to (decision 0043): the subscriptions whose
    delivery of the article's ``article.published`` announcement (any of them, if it was
    published, unpublished and published again) succeeded, and that are still active. A
    reader who has unsubscribed since, one who subscribed after, one whose delivery failed
    or is still pending, a digest reader (who got the article in a digest): none of them.

    Indexed all the way: the article's events (ix_outbox_events_article), their
    announcements by the unique source key, their deliveries by the unique
    (announcement, subscription) pair. Ids ascending.
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
        )
        .order_by(Delivery.subscription_id)
    )
    return tuple(rows)


def announce_event(unit_of_work: UnitOfWork, event_id: int, now: datetime, settings: Settings) -> int:
    """Plan an article event's deliveries in two units of work; returns how many were planned.

    The first batch's rows are committed (and so sent) on their own, before the rest are
    planned: its receivers do not wait for the whole audience to be planned, and a
    worker process that is free sends them meanwhile (decision 22). An audience of one
    batch or less is planned in one unit of work.
    """
    first = settings.delivery_batch_size
    with unit_of_work() as session:
        planned = len(plan_event_announcement(session, event_id, now, settings, first=first))
    if planned < first:
        return planned
    with unit_of_work() as session:
        return planned + len(plan_event_announcement(session, event_id, now, settings))


def plan_event_announcement(
    session: Session, event_id: int, now: datetime, settings: Settings, first: int | None = None
) -> list[str]:
    """Deliveries for an article event, once; the article's current state is what subscribers see.

    Returns the new delivery ids (sent once the caller commits); none if the event was
    announced before, does not exist, or its article is gone.

    With ``first``, at most about that many (``plan_announcement``); the event stays
    unannounced unless fewer came back (everything is planned then), and the caller
    plans the rest by calling again without it. An event whose planning stopped half
    way (a worker died between the two) is completed, not planned again, whichever
    call finds it: its announced_at is still empty and the sweep sends it again.
    """
    event = session.get(OutboxEvent, event_id, with_for_update=True)
    if event is None or event.announced_at is not None:
        return []
    article = session.get(Article, event.article_id) if event.article_id is not None else None
    if article is None:
        event.announced_at = now
        return []
    payload = article_payload(article, settings.base_url)
    audience: Audience = Followers(categories=tuple(c.slug for c in article.categories))
    if event.type == EventType.ARTICLE_CORRECTED.value:
        correction = session.get(ArticleCorrection, event.payload.get("correction_id"))
        if correction is None:
            event.announced_at = now
            return []
        payload["correction"] = Correction.of(correction).as_payload()
        audience = Named(original_recipients(session, article.id))
    planned = plan_announcement(
        session,
        source_key=source_key(event.id),
        event_type=event.type,
        payload=payload,
        now=now,
        settings=settings,
        audience=audience,
        first=first,
        resume=True,
    )
    if first is None or len(planned) < first:
        event.announced_at = now
    return planned
