"""Reading the delivery log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from service.db.models import (
    Announcement,
    Article,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscription,
    SubscriptionStatus,
)
from service.text import search_key

HEALTH_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class DeliveryHealth:
    """What the dashboard shows of the last HEALTH_WINDOW: counts of deliveries and disabled
    subscriptions; and the outbox lag now, in whole seconds (0: every event rendered and announced)."""

    delivered: int
    retrying: int
    failed: int
    disabled_subscriptions: int
    outbox_lag_seconds: int


def delivery_health(session: Session, now: datetime, outbox_oldest: datetime | None) -> DeliveryHealth:
    """Deliveries of the last 24 hours by outcome, and the subscriptions disabled now;
    ``outbox_oldest`` is the oldest unfinished event's time (``outbox_oldest_unfinished``),
    read by the caller: the outbox is the events' table, and events plan deliveries, not
    the other way round.

    Each count is one index range on ``(status, next_attempt_at)`` (a delivered or failed
    row keeps the due time of its last attempt there), so the dashboard never reads the whole
    log; "retrying" is a pending row that has been tried at least once.
    """
    since = now - HEALTH_WINDOW

    def count(status: DeliveryStatus, *conditions: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(Delivery)
        query = query.where(Delivery.status == status.value, Delivery.next_attempt_at >= since, *conditions)
        return session.scalar(query) or 0

    disabled = session.scalar(
        select(func.count()).select_from(Subscription).where(Subscription.status == SubscriptionStatus.DISABLED)
    )
    # The same figure as the bantin_outbox_lag_seconds metric: a stuck worker or broker shows here first.
    lag = max(0, int((now - outbox_oldest).total_seconds())) if outbox_oldest is not None else 0
    return DeliveryHealth(
        outbox_lag_seconds=lag,
        delivered=count(DeliveryStatus.DELIVERED),
        retrying=count(DeliveryStatus.PENDING, Delivery.attempts > 0),
        failed=count(DeliveryStatus.FAILED),
        disabled_subscriptions=disabled or 0,
    )


def announcements_by_id(session: Session, ids: Iterable[int]) -> dict[int, Announcement]:
    """The announcements with these ids (what a page of the delivery log refers to), by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Announcement).where(Announcement.id.in_(wanted)))}


def list_deliveries(
    session: Session,
    *,
    announcement_id: int | None = None,
    subscription_id: int | None = None,
    status: DeliveryStatus | None = None,
    title: str | None = None,
    address: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[Delivery, list[DeliveryAttempt]]], int]:
    """A page of deliveries, newest first, each with its attempts in order, and the total matching.

    ``title``: words of the title of the article an announcement is about (each word, any
    case, with or without diacritics); ``address``: part of the recipient's address (an
    e-mail, a URL, a chat id), ignoring the case of ASCII letters.
    """
    query = select(Delivery)
    if announcement_id is not None:
        query = query.where(Delivery.announcement_id == announcement_id)
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    if title:
        # The articles' own search rule (service.articles.service.list_articles): every word,
        # ignoring case and diacritics, on the kept search text; their announcements by the
        # article id in the payload (service.events.announce.article_payload).
        articles = select(Article.id)
        for word in search_key(title).split():
            articles = articles.where(Article.search_text.contains(word, autoescape=True))
        titled = select(Announcement.id).where(Announcement.payload[("article", "id")].as_integer().in_(articles))
        query = query.where(Delivery.announcement_id.in_(titled))
    if address:
        addressed = select(Subscription.id).where(Subscription.target.icontains(address, autoescape=True))
        query = query.where(Delivery.subscription_id.in_(addressed))
    if status is not None:
        query = query.where(Delivery.status == status.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    deliveries = list(
        session.scalars(query.order_by(Delivery.created_at.desc(), Delivery.id).limit(limit).offset(offset))
    )
    attempts: dict[str, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        for attempt in session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(attempts)).order_by(DeliveryAttempt.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [(d, attempts[d.id]) for d in deliveries], total
