"""Operations endpoints: readiness (``/metrics`` is in observability.py; liveness, ``/healthz``, in documents.py)."""

from __future__ import annotations

import logging
from typing import Literal

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from config.settings import get_settings
from service.db.engine import read_scope

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


class Readiness(BaseModel):
    """What /readyz answers, ready or not: each check is "ok" or says what is unreachable."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the checks say what is unreachable"}},
)
def readyz() -> JSONResponse:
    """Database, broker (and Redis, when it is not the broker) reachable; 503 naming what is not."""
    from workers.app import app as celery_app
    from workers.broker import broker_problem

    checks: dict[str, str] = {}
    try:
        # An autocommit read: a probe must not queue for SQLite's write lock (decision 0027).
        with read_scope() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readyz: database: %s", exc)
        checks["database"] = f"unreachable: {type(exc).__name__}"
    problem = broker_problem(celery_app, timeout=2)
    if problem is not None:
        log.warning("readyz: broker: %s", problem)
    checks["broker"] = "ok" if problem is None else f"unreachable: {problem}"
    settings = get_settings()
    if settings.broker_is_rabbitmq and settings.redis_url:
        # With RabbitMQ as the broker, rate limits still live in a Redis of their own.
        try:
            redis.Redis.from_url(settings.effective_redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            log.warning("readyz: redis: %s", exc)
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )
