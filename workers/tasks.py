"""Thin tasks: take ids, open a unit of work, call one domain function."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import lru_cache

from celery.signals import worker_process_init

from config.settings import get_settings
from service import clock
from service.articles.service import publish_due_articles
from service.calendar.reminders import plan_all, send_due
from service.calendar.service import refresh_calendar
from service.channels.base import RateLimiter
from service.db.engine import get_sessionmaker, session_scope
from service.db.types import utcnow
from service.deliveries.planning import plan_event_announcement
from service.deliveries.ratelimit import limiter_for
from service.deliveries.sender import send_batch
from service.deliveries.sweep import claim_due, release_stuck
from service.events.handlers import handle_event
from service.events.outbox import claim_unrelayed_events
from service.feeds.publish import render_scope
from service.feeds.scopes import SITE
from service.websub.hub import (
    apply_verification,
    ask_subscriber,
    expire_leases,
    lost_verifications,
    pending_verification,
    plan_feed_updates,
)
from workers.app import app
from workers.queues import Queue
from workers.relay import enqueue_deliveries, relay_events

log = logging.getLogger(__name__)


@worker_process_init.connect
def warm_process(**_: object) -> None:
    """Pay a pool process's first-use costs before its first task instead of on the first
    publish: the database connection, SQLAlchemy's compilation of the render's statements,
    the renderers' and compressors' first calls. Renders the site feeds and rolls back.
    """
    session = get_sessionmaker()()
    try:
        render_scope(session, SITE, utcnow())
    except Exception as exc:  # noqa: BLE001 - a cold process is slower, not broken
        log.warning("warming the process up failed: %s", exc)
    finally:
        session.rollback()
        session.close()


@lru_cache(maxsize=1)
def rate_limiter() -> RateLimiter:
    return limiter_for(get_settings())


@app.task(name="events.dispatch")
def dispatch_event(event_id: int) -> None:
    """Feeds here; the announcement in parallel on another worker process."""
    announce_event.apply_async(args=[event_id], queue=Queue.EVENTS.value, retry=False)
    changed = handle_event(session_scope, event_id, utcnow())
    if changed:
        with session_scope() as session:
            delivery_ids = plan_feed_updates(session, changed, utcnow())
        enqueue_deliveries(delivery_ids)


@app.task(name="events.announce")
def announce_event(event_id: int) -> None:
    with session_scope() as session:
        delivery_ids = plan_event_announcement(session, event_id, utcnow())
    enqueue_deliveries(delivery_ids)


@app.task(name="events.sweep")
def sweep_events() -> int:
    """Re-send events the broker lost (DESIGN.md decision 1)."""
    with session_scope() as session:
        event_ids = claim_unrelayed_events(session, utcnow())
    if event_ids:
        log.info("re-sending %d unhandled events", len(event_ids))
    return relay_events(event_ids)


@app.task(name="articles.publish_due")
def publish_due() -> int:
    with session_scope() as session:
        event_ids = publish_due_articles(session, utcnow())
    return relay_events(event_ids)


@app.task(name="deliveries.send_batch")
def send_delivery_batch(delivery_ids: list[str]) -> dict[str, int]:
    summary = send_batch(session_scope, delivery_ids, utcnow(), rate_limiter())
    enqueue_deliveries(summary.follow_up_ids)
    return {"claimed": summary.claimed, "delivered": summary.delivered, "failed": summary.failed}


@app.task(name="deliveries.sweep")
def sweep_deliveries() -> int:
    """Release batches that died, then send what is due (retries, lost messages)."""
    now = utcnow()
    with session_scope() as session:
        released = release_stuck(session, now)
        due = claim_due(session, now)
    if released or due:
        log.info("deliveries sweep: %d released from dead batches, %d due", released, len(due))
    return enqueue_deliveries(due)


@app.task(name="websub.verify")
def verify_websub_intent(subscription_id: int) -> bool:
    """Ask the callback to echo a challenge, then apply the request (WebSub §5.3)."""
    with session_scope() as session:
        verification = pending_verification(session, subscription_id)
    if verification is None:
        return False
    confirmed = ask_subscriber(verification, get_settings())
    with session_scope() as session:
        apply_verification(session, subscription_id, confirmed, utcnow())
    return confirmed


@app.task(name="websub.maintain")
def maintain_websub() -> int:
    """Expire leases; re-send verifications the broker lost."""
    now = utcnow()
    with session_scope() as session:
        expired = expire_leases(session, now)
        lost = lost_verifications(session, now, timedelta(seconds=30))
    for subscription_id in lost:
        verify_websub_intent.apply_async(args=[subscription_id], queue=Queue.MAINTENANCE.value, retry=False)
    return expired


@app.task(name="calendar.tick")
def calendar_tick() -> dict[str, int]:
    """Plan reminders up to the horizon, then announce the due ones (exactly once)."""
    now = clock.now()
    with session_scope() as session:
        planned = plan_all(session, now)
    with session_scope() as session:
        result = send_due(session, now)
    enqueue_deliveries(result.delivery_ids)
    with session_scope() as session:
        refresh_calendar(session, now)
    return {"planned": planned, "sent": len(result.sent), "late": len(result.late), "missed": len(result.missed)}
