"""``/websub``: the hub endpoint (W3C WebSub §5.1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from service import task_names
from service.api.deps import AppSettings
from service.api.errors import ErrorMessage
from service.db.after_commit import defer
from service.db.engine import session_scope
from service.db.types import utcnow
from service.errors import InvalidField
from service.websub.hub import HubBusy, check_capacity, parse_request, record_request

router = APIRouter(tags=["websub"])
# What a subscriber POSTs (W3C WebSub §5.1), read by hand from the form: documented here.
HUB_REQUEST: dict[str, Any] = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["hub.mode", "hub.callback", "hub.topic"],
                "properties": {
                    "hub.mode": {"type": "string", "enum": ["subscribe", "unsubscribe"]},
                    "hub.callback": {"type": "string", "format": "uri", "description": "where to verify and deliver"},
                    "hub.topic": {"type": "string", "format": "uri", "description": "one of this hub's feed URLs"},
                    "hub.lease_seconds": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "kept within the hub's bounds",
                    },
                    "hub.secret": {"type": "string", "description": "for X-Hub-Signature; under 200 bytes"},
                },
            }
        }
    },
}
BUSY: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorMessage,
        "description": "Too many verifications in flight for the callback's host or in total",
        "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
    }
}


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


@router.post("/websub", status_code=202, responses=BUSY, openapi_extra={"requestBody": HUB_REQUEST})
async def hub(request: Request, settings: AppSettings) -> Response:
    """Subscribe or unsubscribe (form-encoded `hub.mode`, `hub.callback`, `hub.topic`,
    `hub.lease_seconds`, `hub.secret`). 202: the callback's intent will be verified;
    422 names the bad parameter; 429 (with Retry-After) when too many verifications
    are in flight for the callback's host or in total."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise InvalidField("body", "form_encoded")
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise InvalidField("body", "not_utf8") from None
    try:
        await run_in_threadpool(_record, form, settings)
    except HubBusy as exc:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)})
    return Response(status_code=202)
