"""What a worker does with an event: re-render exactly the feeds it touched."""

from __future__ import annotations

import logging
from datetime import datetime

from config.settings import Settings
from service import task_names
from service.db.after_commit import defer
from service.db.engine import UnitOfWork
from service.db.models import OutboxEvent
from service.events.outbox import mark_handled
from service.feeds.publish import render_identity, store_scope_variants

log = logging.getLogger(__name__)


def handle_event(
    unit_of_work: UnitOfWork, event_id: int, now: datetime, settings: Settings
) -> dict[str, list[str]] | None:
    """Re-render the event's scopes, one unit of work per scope.

    Returns the formats whose bytes changed, per scope; None if the event was handled before.
    The event's announcement is handed to another worker first (``events.announce``, sent
    when the first unit of work commits), so it goes out while the feeds render.

    Each scope's identity bytes are committed first, their compressed variants in a second
    transaction (decision 24). One transaction per scope lets readers of the site feed
    see the article before the category feeds are done, and keeps each scope's lock short. A crash part-way
    leaves the event unhandled; the sweep re-sends it, and rendering again is harmless
    (the same content gives the same bytes and ETag).
    """
    with unit_of_work() as session:
        event = session.get(OutboxEvent, event_id)
        if event is None:
            log.warning("event %s does not exist (rolled back before the relay?)", event_id)
            return None
        defer(session, task_names.ANNOUNCE_EVENT, event_id)
        if event.handled_at is not None:
            return None
        event_type, scopes, article_id = event.type, list(event.payload.get("scopes", [])), event.article_id
    changed: dict[str, list[str]] = {}
    for scope in scopes:
        with unit_of_work() as session:
            rendered = render_identity(session, scope, now, settings)
        changed[scope] = rendered.changed
        if rendered.uncompressed:
            # Committed (and announced) before compressing: decision 24.
            with unit_of_work() as session:
                store_scope_variants(session, scope, rendered.uncompressed)
    with unit_of_work() as session:
        mark_handled(session, event_id, now)
    log.info(
        "event %s %s: re-rendered %s",
        event_id,
        event_type,
        changed,
        extra={"event_id": event_id, "article_id": article_id},
    )
    return changed
