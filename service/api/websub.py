"""``/websub``: the hub endpoint (W3C WebSub §5.1)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.types import utcnow
from service.errors import InvalidField
from service.websub.hub import HubBusy, check_capacity, parse_request, record_request

router = APIRouter(tags=["websub"])
log = logging.getLogger(__name__)


def _record(form: dict[str, str]) -> int | None:
    settings, now = get_settings(), utcnow()
    with session_scope() as session:
        request = parse_request(session, form, settings)
        check_capacity(session, request.callback, settings, now)
        return record_request(session, request, now)


def _send_verification(subscription_id: int) -> None:
    from workers.queues import Queue
    from workers.tasks import verify_websub_intent

    try:
        verify_websub_intent.apply_async(args=[subscription_id], queue=Queue.MAINTENANCE.value, retry=False)
    except Exception as exc:  # noqa: BLE001 - websub.maintain re-sends verifications the broker lost
        log.warning("broker unreachable; verification of subscription %s left for the sweep: %s", subscription_id, exc)


@router.post("/websub", status_code=202)
async def hub(request: Request, background: BackgroundTasks) -> Response:
    """Subscribe or unsubscribe (form-encoded `hub.mode`, `hub.callback`, `hub.topic`,
    `hub.lease_seconds`, `hub.secret`). 202: the callback's intent will be verified;
    422 names the bad parameter; 429 (with Retry-After) when too many verifications
    are in flight for the callback's host or in total."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise InvalidField("body", "must be application/x-www-form-urlencoded")
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise InvalidField("body", "is not UTF-8") from None
    try:
        subscription_id = await run_in_threadpool(_record, form)
    except HubBusy as exc:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)})
    if subscription_id is not None:
        background.add_task(_send_verification, subscription_id)
    return Response(status_code=202)
