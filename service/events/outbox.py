"""Writing events with the change, and finding the ones the broker lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service import task_names
from service.db.after_commit import defer
from service.db.models import Article, EventType, OutboxEvent
from service.db.types import utcnow
from service.feeds.scopes import scopes_for

# After this many relays, an event is re-sent at most this often.
MAX_REDELIVERY_BACKOFF = timedelta(minutes=10)


def record_article_event(
    session: Session, event_type: EventType, article: Article, settings: Settings, extra_scopes: Sequence[str] = ()
) -> OutboxEvent:
    """Add the event in the caller's transaction; it is sent to a worker once that commits."""
    now = utcnow()
    scopes = scopes_for(c.slug for c in article.categories)
    scopes += [s for s in extra_scopes if s not in scopes]
    event = OutboxEvent(
        type=event_type.value,
        article_id=article.id,
        payload={"article_id": article.id, "guid": article.guid, "scopes": scopes},
        created_at=now,
        next_attempt_at=now + timedelta(seconds=settings.event_redelivery_seconds),
        relay_attempts=0,
    )
    session.add(event)
    session.flush()
    defer(session, task_names.DISPATCH_EVENT, event.id)
    return event


def claim_unrelayed_events(session: Session, now: datetime, settings: Settings, limit: int = 500) -> list[int]:
    """Ids of events nobody has handled in time, sent again after commit and pushed back
    so that the next sweep skips them.

    ``SKIP LOCKED`` lets two beat processes sweep at once without both taking an event.
    """
    rows = session.scalars(
        select(OutboxEvent)
        .where(or_(OutboxEvent.handled_at.is_(None), OutboxEvent.announced_at.is_(None)))
        .where(OutboxEvent.next_attempt_at <= now)
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    base = timedelta(seconds=settings.event_redelivery_seconds)
    for event in rows:
        event.relay_attempts += 1
        event.next_attempt_at = now + min(base * (2 ** min(event.relay_attempts, 10)), MAX_REDELIVERY_BACKOFF)
    for event in rows:
        defer(session, task_names.DISPATCH_EVENT, event.id)
    return [event.id for event in rows]


def mark_handled(session: Session, event_id: int, now: datetime) -> None:
    """Mark the event handled at ``now`` unless it was already (the first mark stays)."""
    session.execute(
        update(OutboxEvent).where(OutboxEvent.id == event_id, OutboxEvent.handled_at.is_(None)).values(handled_at=now)
    )


# Only the newest events can still be waiting to be announced: the look-up stays one index range.
OUTBOX_ANNOUNCE_WINDOW = 10_000


def outbox_oldest_unfinished(session: Session) -> datetime | None:
    """Creation time of the oldest event not yet rendered or not yet announced."""
    unhandled = session.scalar(select(func.min(OutboxEvent.created_at)).where(OutboxEvent.handled_at.is_(None)))
    newest = session.scalar(select(func.max(OutboxEvent.id)))
    unannounced = None
    if newest is not None:
        unannounced = session.scalar(
            select(func.min(OutboxEvent.created_at)).where(
                OutboxEvent.id > newest - OUTBOX_ANNOUNCE_WINDOW, OutboxEvent.announced_at.is_(None)
            )
        )
    found = [t for t in (unhandled, unannounced) if t is not None]
    return min(found) if found else None
