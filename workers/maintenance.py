"""Periodic housekeeping tasks that are not part of sending (kept apart from workers/tasks.py)."""

from __future__ import annotations

import logging

from config.settings import get_settings
from service import task_names
from service.audit.retention import export_old
from service.db.engine import session_scope
from service.db.types import utcnow
from service.deliveries.retention import purge_delivered
from service.observability.metrics import DELIVERIES_PURGED
from service.readers.signup import purge_unconfirmed
from service.telegram.bot import purge_updates
from workers.app import app

log = logging.getLogger(__name__)


@app.task(name=task_names.PURGE_DELIVERIES)
def purge_deliveries() -> int:
    """Delete delivered rows older than BANTIN_DELIVERY_RETENTION_DAYS, a few bounded chunks per
    tick; then unconfirmed sign-ups past their links and Telegram update ids past a week; then
    export audit rows older than BANTIN_AUDIT_RETENTION_DAYS to files and delete them."""
    deleted = purge_delivered(session_scope, utcnow(), get_settings().delivery_retention_days)
    if deleted:
        DELIVERIES_PURGED.inc(deleted)
        log.info("deliveries purge: %d delivered rows older than the retention deleted", deleted)
    with session_scope() as session:
        erased = purge_unconfirmed(session, utcnow())
    if erased:
        log.info("unconfirmed sign-ups erased: %d", erased)
    with session_scope() as session:
        forgotten = purge_updates(session, utcnow())
    if forgotten:
        log.info("telegram update ids older than a week deleted: %d", forgotten)
    settings = get_settings()
    for exported in export_old(session_scope, settings.var_dir / "audit", utcnow(), settings.audit_retention_days):
        log.info("audit rows past the retention exported to %s and deleted: %d", exported.path.name, exported.rows)
    return deleted
