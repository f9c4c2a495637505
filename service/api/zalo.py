"""``POST /zalo/webhook``: the Zalo Official Account's events (follow, unfollow, messages).

Thin: the signature and parsing rules live in ``service.readers.zalo_webhook``, what an
event does in ``service.readers.zalo_followers``. Answers, in the order they are decided:

- 503 when ``BANTIN_ZALO_APP_ID`` or ``BANTIN_ZALO_OA_SECRET_KEY`` is unset (nothing to check with);
- 401 when ``X-ZEvent-Signature`` is missing, malformed or wrong: checked on the raw bytes,
  before the body is parsed;
- 400 ``{"detail": [{"field", "message", "type"}]}`` when a signed body is not a JSON object
  (or nested too deeply) or an event we handle lacks a field (``timestamp`` included);
- 200 ``{"outcome": …}`` otherwise, unknown event kinds and redeliveries included (Zalo
  retries anything else for hours).
Nothing is stored before the signature matches, and everything an event does commits at once.

Not in the OpenAPI document: Zalo calls it, no API client does (docs/channels.md, "Zalo Official Account").
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from service.api.deps import AppSettings
from service.db.engine import session_scope
from service.db.types import utcnow
from service.errors import InvalidField
from service.readers import zalo_webhook
from service.readers.zalo_followers import handle_event

log = logging.getLogger(__name__)
router = APIRouter(tags=["zalo"], include_in_schema=False)


def _handle(body: bytes, mac: str, settings: Settings) -> str:
    secret = settings.zalo_oa_secret_key.get_secret_value()
    # Signature first, on the raw bytes: nothing from an unsigned sender is parsed.
    timestamp = zalo_webhook.verify(mac, settings.zalo_app_id, body, secret)
    document = zalo_webhook.parse(body)
    zalo_webhook.check_signed_timestamp(document, timestamp)
    event = zalo_webhook.read_event(document)
    with session_scope() as session:
        return handle_event(session, event, utcnow(), settings)


@router.post("/zalo/webhook")
async def webhook(request: Request, settings: AppSettings) -> Response:
    """One signed OA event: 200 with the outcome, 400 naming a bad field, 401 unsigned, 503 unconfigured."""
    if not settings.zalo_app_id or not settings.zalo_oa_secret_key.get_secret_value():
        return JSONResponse(
            {"detail": "the Zalo webhook is not configured: set BANTIN_ZALO_APP_ID and BANTIN_ZALO_OA_SECRET_KEY"},
            status_code=503,
        )
    try:
        mac = zalo_webhook.header_mac(request.headers.get(zalo_webhook.SIGNATURE_HEADER))
        outcome = await run_in_threadpool(_handle, await request.body(), mac, settings)
    except zalo_webhook.BadSignature as exc:
        log.warning("zalo webhook refused: signature %s", exc)
        return JSONResponse({"detail": f"{zalo_webhook.SIGNATURE_HEADER} is {exc}"}, status_code=401)
    except InvalidField as exc:
        return JSONResponse(
            {"detail": [{"field": exc.field, "message": exc.message, "type": "invalid"}]}, status_code=400
        )
    return JSONResponse({"outcome": outcome})
