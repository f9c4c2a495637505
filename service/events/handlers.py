"""What a worker does with an event: re-render exactly the feeds it touched."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from service.db.models import OutboxEvent
from service.events.outbox import mark_handled
from service.feeds.publish import render_scopes

log = logging.getLogger(__name__)


def handle_event(session: Session, event_id: int, now: datetime) -> bool:
    """Idempotent: rendering twice gives the same bytes; returns False for an event already handled."""
    event = session.get(OutboxEvent, event_id)
    if event is None:
        log.warning("event %s does not exist (rolled back before the relay?)", event_id)
        return False
    if event.handled_at is not None:
        return False
    changed = render_scopes(session, event.payload.get("scopes", []), now)
    mark_handled(session, event_id, now)
    log.info("event %s %s: re-rendered %s", event_id, event.type, changed)
    return True
