"""Thin tasks: take ids, open a unit of work, call one domain function."""

from __future__ import annotations

import logging

from service.articles.service import publish_due_articles
from service.db.engine import session_scope
from service.db.types import utcnow
from service.events.handlers import handle_event
from service.events.outbox import claim_unrelayed_events
from workers.app import app
from workers.relay import relay_events

log = logging.getLogger(__name__)


@app.task(name="events.dispatch", acks_late=True)
def dispatch_event(event_id: int) -> None:
    handle_event(session_scope, event_id, utcnow())


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
