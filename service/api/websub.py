"""``/websub``: the hub endpoint (W3C WebSub §5.1)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from service import task_names
from service.api.deps import AppSettings
from service.db.after_commit import defer
from service.db.engine import session_scope
from service.db.types import utcnow
from service.errors import InvalidField
from service.websub.hub import HubBusy, check_capacity, parse_request, record_request

router = APIRouter(tags=["websub"])


def _record(form: dict[str, str], settings: Settings) -> None:
    """Store the request; its verification of intent is sent once that commits.

    Raises ``HubBusy`` when too many verifications are in flight (nothing stored)."""
    now = utcnow()
    with session_scope() as session:
        request = parse_request(session, form, settings)
        check_capacity(session, request.callback, settings, now)
        subscription_id = record_request(session, request, now)
        if subscription_id is not None:
            defer(session, task_names.VERIFY_WEBSUB_INTENT, subscription_id)


@router.post("/websub", status_code=202)
async def hub(request: Request, settings: AppSettings) -> Response:
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
        await run_in_threadpool(_record, form, settings)
    except HubBusy as exc:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)})
    return Response(status_code=202)
