"""Long polling (``getUpdates``) for a desk whose API Telegram cannot reach (an intranet).

Each update goes through the same ``process_update`` as the webhook's, so an update
seen by both (a webhook set while polling ran) is still handled once. The offset is
kept in memory only: after a restart ``getUpdates`` returns the unconfirmed updates
again, and their recorded ids make them do nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from config.settings import Settings
from service.db.engine import UnitOfWork
from service.telegram.bot import process_update
from service.telegram.bot_api import BotApi, BotApiError
from service.telegram.updates import HANDLED_KINDS, MalformedUpdate, parse_update

log = logging.getLogger(__name__)
# getUpdates takes at most 100 updates per call.
BATCH = 100
MAX_BACK_OFF_SECONDS = 30.0


class PollingRefused(Exception):
    """Polling cannot work as configured: a webhook is set (409) or the token is refused (401/404)."""


def poll(api: BotApi, settings: Settings, unit_of_work: UnitOfWork, *, once: bool = False,
         sleep: Callable[[float], None] = time.sleep) -> int:  # fmt: skip
    """Fetch and handle updates until stopped (or one ``getUpdates`` call with ``once``);
    returns how many updates were handled. A failed call is retried with back-off (1 s
    doubling to 30 s); raises ``PollingRefused`` when retrying cannot help."""
    me = _call(api, "getMe", {})
    username = str((me or {}).get("username") or "") or None
    log.info("polling Telegram for updates as @%s", username or "?")
    offset: int | None = None
    handled = 0
    back_off = 1.0
    while True:
        parameters = {"timeout": settings.telegram_poll_timeout_seconds, "limit": BATCH,
                      "allowed_updates": list(HANDLED_KINDS)}  # fmt: skip
        if offset is not None:
            parameters["offset"] = offset  # confirms every update before it
        try:
            items = _call(api, "getUpdates", parameters)
        except BotApiError as exc:
            log.warning("telegram getUpdates failed (retrying in %.0f s): %s", back_off, exc)
            if once:
                raise
            sleep(back_off)
            back_off = min(back_off * 2, MAX_BACK_OFF_SECONDS)
            continue
        back_off = 1.0
        for item in items if isinstance(items, list) else []:
            raw_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(raw_id, int) and not isinstance(raw_id, bool):
                offset = max(offset or 0, raw_id + 1)
            try:
                update = parse_update(item)
            except MalformedUpdate as exc:
                log.warning("telegram update skipped, not an Update: %s", exc)
                continue
            process_update(update, settings, api, unit_of_work, username)
            handled += 1
        if once:
            return handled


def _call(api: BotApi, method: str, parameters: dict[str, object]) -> Any:
    try:
        return api.call(method, parameters)
    except BotApiError as exc:
        if exc.error_code == 409:
            raise PollingRefused(
                f"{exc}: a webhook is set for this bot; remove it with `bantin telegram delete-webhook`"
            ) from None
        if exc.error_code in (401, 404):
            raise PollingRefused(f"{exc}: check BANTIN_TELEGRAM_BOT_TOKEN") from None
        raise
