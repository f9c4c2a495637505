"""Announcing an article event to subscribers: the payload they receive, planned once per event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.urls import article_url
from service.db.models import Article, OutboxEvent
from service.deliveries.planning import plan_announcement
from service.feeds.scopes import SITE
from service.feeds.urls import feed_url


def article_payload(article: Article, base_url: str) -> dict[str, Any]:
    """What an ``article.*`` announcement carries: the article's public fields and the site feed.

    Times are ISO 8601 in UTC; ``url`` is the public page (``article_url``).
    """
    return {
        "article": {
            "id": article.id,
            "guid": article.guid,
            "title": article.title,
            "summary": article.summary,
            "url": article_url(article, base_url),
            "author": article.author,
            "categories": [{"name": c.name, "slug": c.slug} for c in article.categories],
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "updated_at": article.updated_at.isoformat(),
            "image_url": article.image_url,
        },
        "links": {"feed": feed_url(base_url, SITE, "atom")},
    }


def plan_event_announcement(session: Session, event_id: int, now: datetime, settings: Settings) -> list[str]:
    """Deliveries for an article event, once; the article's current state is what subscribers see.

    Returns the new delivery ids (sent once the caller commits); none if the event was
    announced before, does not exist, or its article is gone.
    """
    event = session.get(OutboxEvent, event_id, with_for_update=True)
    if event is None or event.announced_at is not None:
        return []
    event.announced_at = now
    article = session.get(Article, event.article_id) if event.article_id is not None else None
    if article is None:
        return []
    return plan_announcement(
        session,
        source_key=f"event:{event.id}",
        event_type=event.type,
        payload=article_payload(article, settings.base_url),
        now=now,
        settings=settings,
        categories=[c.slug for c in article.categories],
    )
