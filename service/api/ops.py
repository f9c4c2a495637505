"""Operations endpoints: readiness and metrics (liveness, /healthz, is in service/api/documents.py)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select, text

from service.db.engine import get_engine, session_scope
from service.db.models import Delivery, OutboxEvent, Reminder, Subscription

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


@router.get("/readyz")
def readyz() -> JSONResponse:
    """Database and broker reachable; 503 naming what is not."""
    from workers.app import app as celery_app

    checks: dict[str, str] = {}
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readyz: database: %s", exc)
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        log.warning("readyz: broker: %s", exc)
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


# (metric, help, model, grouping column or None)
GAUGES = (
    ("bantin_deliveries", "Deliveries by status.", Delivery, Delivery.status),
    ("bantin_subscriptions", "Subscriptions by status.", Subscription, Subscription.status),
    ("bantin_reminders", "Anniversary reminders by status.", Reminder, Reminder.status),
)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics() -> PlainTextResponse:
    """Prometheus text format: queue depths that matter, read from the database (the source of truth)."""
    lines: list[str] = []
    with session_scope() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where((OutboxEvent.handled_at.is_(None)) | (OutboxEvent.announced_at.is_(None)))
        )
        lines += [
            "# HELP bantin_outbox_unfinished Events not yet rendered or announced.",
            "# TYPE bantin_outbox_unfinished gauge",
            f"bantin_outbox_unfinished {pending or 0}",
        ]
        for name, help_text, model, column in GAUGES:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            for value, count in session.execute(select(column, func.count()).select_from(model).group_by(column)):
                lines.append(f'{name}{{status="{value}"}} {count}')
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8")
