"""Thin tasks: take ids, open a unit of work, call one domain function.

Follow-up work (the announcement of an event, delivery batches, notices) is deferred by
the domain on the session and sent by ``workers.relay`` once the unit of work commits.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import lru_cache

from celery.signals import worker_process_init, worker_ready

from config.settings import get_settings
from service import clock, heap, task_names
from service.announcement_kinds import register_all
from service.articles.service import publish_due_articles
from service.calendar.reminders import plan_all, send_due
from service.calendar.service import refresh_calendar
from service.channels import mail_relay
from service.channels.base import RateLimiter
from service.db.after_commit import defer, defer_batched
from service.db.engine import get_sessionmaker, session_scope
from service.db.types import utcnow
from service.deliveries.ratelimit import limiter_for
from service.deliveries.sender import send_batch
from service.deliveries.sweep import BATCHES_PER_SWEEP, feed, release_stuck, top_up
from service.digests.planning import tick as digests_tick
from service.events.announce import announce_event as announce
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
from workers import relay
from workers.app import app

log = logging.getLogger(__name__)
# What a task's unit of work defers goes to the broker after its commit.
relay.install()
# The batch sender finds each announcement's kind by name in the registry (decision 0032).
register_all()


@worker_process_init.connect
def warm_process(**_: object) -> None:
    """Pay a pool process's first-use costs before its first task instead of on the first
    publish: the database connection, SQLAlchemy's compilation of the render's statements,
    the renderers' and compressors' first calls. Renders the site feeds and rolls back,
    then freezes what the process holds from now on (``service.heap``, decision 22).
    """
    session = get_sessionmaker()()
    try:
        render_scope(session, SITE, utcnow(), get_settings())
    except Exception as exc:  # noqa: BLE001 - a cold process is slower, not broken
        log.warning("warming the process up failed: %s", exc)
    finally:
        session.rollback()
        session.close()
    heap.freeze_long_lived()


@worker_ready.connect
def freeze_main_process(**_: object) -> None:
    """The worker's main process (the consumer) freezes its heap once it is ready to take messages."""
    heap.freeze_long_lived()


@worker_ready.connect
def check_mail_relay(**_: object) -> None:
    """Mail never fails in silence (decision 0038): the worker that would send it says at
    start, in its own log, when it cannot (no relay in production, or one that does not answer)."""
    asyncio.run(mail_relay.check(get_settings()))


@lru_cache(maxsize=1)
def rate_limiter() -> RateLimiter:
    """The process's rate limiter (shared Redis buckets when there is a Redis)."""
    return limiter_for(get_settings())


@app.task(name=task_names.DISPATCH_EVENT)
def dispatch_event(event_id: int) -> None:
    """Feeds here; the announcement in parallel on another worker process."""
    changed = handle_event(session_scope, event_id, utcnow(), get_settings())
    if changed:
        with session_scope() as session:
            planned = plan_feed_updates(session, changed, utcnow(), get_settings())
            defer_batched(session, task_names.DISTRIBUTE_WEBSUB, planned)


@app.task(name=task_names.ANNOUNCE_EVENT)
def announce_event(event_id: int) -> None:
    """Plan the deliveries of an event's announcement (the first batch sent before the rest is planned)."""
    settings = get_settings()
    # Half the soft limit: a million subscribers take several tasks, each handing on to the next (decision 0044).
    announce(session_scope, event_id, utcnow(), settings, settings.task_soft_time_limit_seconds / 2)


@app.task(name=task_names.SWEEP_EVENTS)
def sweep_events() -> int:
    """Re-send events the broker lost (ARCHITECTURE.md decision 1)."""
    with session_scope() as session:
        event_ids = claim_unrelayed_events(session, utcnow(), get_settings())
    if event_ids:
        log.info("re-sending %d unhandled events", len(event_ids))
    return len(event_ids)


@app.task(name=task_names.PUBLISH_DUE)
def publish_due() -> int:
    """Publish the scheduled articles whose time has come; returns how many."""
    with session_scope() as session:
        return len(publish_due_articles(session, utcnow(), get_settings()))


@app.task(name=task_names.SEND_DELIVERY_BATCH)
def send_delivery_batch(delivery_ids: list[str]) -> dict[str, int]:
    """Send a batch of deliveries; returns counts: claimed, delivered, failed."""
    return _send(delivery_ids)


@app.task(name=task_names.DISTRIBUTE_WEBSUB)
def distribute_websub(delivery_ids: list[str]) -> dict[str, int]:
    """A batch of WebSub content distribution: the same sending, on the websub queue (decision 0031)."""
    return _send(delivery_ids)


def _send(delivery_ids: list[str]) -> dict[str, int]:
    settings = get_settings()
    summary = send_batch(session_scope, delivery_ids, utcnow(), rate_limiter(), settings)
    # The next batch of a large audience goes to the broker as this one leaves it (decision 0044).
    with session_scope() as session:
        feed(session, utcnow(), settings)
    return {"claimed": summary.claimed, "delivered": summary.delivered, "failed": summary.failed}


@app.task(name=task_names.SWEEP_DELIVERIES)
def sweep_deliveries() -> int:
    """Release batches that died, then send what is due (retries, lost messages, a large
    audience's rows when its workers died), up to the queue window (decision 0044)."""
    now, settings = utcnow(), get_settings()
    with session_scope() as session:
        released = release_stuck(session, now)
        due = top_up(session, now, settings, most=settings.delivery_batch_size * BATCHES_PER_SWEEP)
    if released or due:
        log.info("deliveries sweep: %d released from dead batches, %d due", released, len(due))
    return len(due)


@app.task(name=task_names.VERIFY_WEBSUB_INTENT)
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


@app.task(name=task_names.MAINTAIN_WEBSUB)
def maintain_websub() -> int:
    """Expire leases; re-send verifications the broker lost."""
    now = utcnow()
    # A verification still running is not lost: wait for the time limit of its task.
    with session_scope() as session:
        expired = expire_leases(session, now)
        for subscription_id in lost_verifications(session, now, timedelta(seconds=get_settings().task_lease_seconds)):
            defer(session, task_names.VERIFY_WEBSUB_INTENT, subscription_id)
    return expired


@app.task(name=task_names.CALENDAR_TICK)
def calendar_tick() -> dict[str, int]:
    """Plan reminders up to the horizon, then announce the due ones (exactly once)."""
    settings = get_settings()
    now = clock.now(settings)
    with session_scope() as session:
        planned = plan_all(session, now, settings)
    with session_scope() as session:
        result = send_due(session, now, settings)
    with session_scope() as session:
        refresh_calendar(session, now, settings)
    return {"planned": planned, "sent": len(result.sent), "late": len(result.late), "missed": len(result.missed)}


@app.task(name=task_names.DIGESTS_TICK)
def plan_digests() -> dict[str, int]:
    """Plan the due daily and weekly digests, each once; returns counts: queued, empty, missed.

    Their mails go as delivery batches after each chunk's commit."""
    settings = get_settings()
    # Half the soft limit: a tick with 100,000 readers stops in time, the next one goes on from the rows.
    result = digests_tick(session_scope, clock.now(settings), settings, settings.task_soft_time_limit_seconds / 2)
    if result.queued or result.missed:
        log.info("digests: %d queued, %d empty, %d missed", result.queued, result.empty, result.missed)
    return {"queued": result.queued, "empty": result.empty, "missed": result.missed}
