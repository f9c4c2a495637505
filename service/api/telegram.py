"""``POST /telegram/webhook``: updates from the Bot API (set up by ``bantin telegram set-webhook``).

Telegram sends the secret given to setWebhook in ``X-Telegram-Bot-Api-Secret-Token``;
anything without it is refused before the body is read. Each update is handled once
(its id is recorded), and the answer is 200 whatever the update was, so Telegram never
retries one we chose to ignore; only a body that is not an Update is a 400, naming the
field as a 422 would (a JSON document from outside: ``service.json_input`` bounds it).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from service.api.deps import AppSettings
from service.api.errors import ErrorMessage, FieldErrors
from service.db.engine import session_scope
from service.telegram.bot import bot_username, needs_username, process_update
from service.telegram.bot_api import BotApi
from service.telegram.updates import MalformedUpdate, Update, parse_update

log = logging.getLogger(__name__)
router = APIRouter(tags=["telegram"])
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name, not a secret
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": FieldErrors, "description": "The body is not a Bot API Update: the field and why"},
    401: {"model": ErrorMessage, "description": "No X-Telegram-Bot-Api-Secret-Token, or not ours"},
}


def _process(update: Update, settings: Settings) -> None:
    with BotApi(settings) as api:
        username = bot_username(api) if needs_username(update) else None
        process_update(update, settings, api, session_scope, username)


@router.post("/telegram/webhook", responses=ERRORS)
async def webhook(request: Request, settings: AppSettings) -> JSONResponse:
    """One Update (JSON): recorded, applied and answered; 200 ``{"ok": true}`` also for a
    redelivered update or a kind the bot ignores."""
    expected = settings.telegram_webhook_secret.get_secret_value().encode()
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
    # Compared in constant time: the answer's timing tells nothing about the secret.
    if not expected or not hmac.compare_digest(given, expected):
        return JSONResponse({"detail": "X-Telegram-Bot-Api-Secret-Token is missing or wrong"}, status_code=401)
    try:
        update = parse_update(await request.body())
    except MalformedUpdate as exc:
        return JSONResponse({"detail": exc.items}, status_code=400)
    await run_in_threadpool(_process, update, settings)
    return JSONResponse({"ok": True})
