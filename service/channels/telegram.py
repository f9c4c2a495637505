"""Telegram Bot API ``sendMessage`` (HTML parse mode)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping
from typing import Any

from service.announcements.message import Medium
from service.channels.base import SendContext
from service.channels.egress import EgressPolicy
from service.channels.http import HttpAnswer, HttpFailure
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.channels.results import elapsed_ms
from service.channels.text import Words, fit, utf16_length
from service.errors import InvalidField
from service.urls import with_path

# A numeric chat id (negative for groups and channels) or a public @channelusername.
CHAT_ID = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")
# sendMessage: "1-4096 characters after entities parsing", counted in UTF-16 code units.
MAX_TEXT = 4096


def telegram_html(message: Words) -> str:
    """The message in HTML parse mode: the plain text cut to 4,096 first, escaped after, so
    a tag or an entity is never cut and the text Telegram counts stays within its limit."""
    words = fit(message, MAX_TEXT, utf16_length)
    lines = words.text.split("\n")
    # Only <b> and <a> from us; everything else escaped, as HTML parse mode requires.
    parts = [f"<b>{html.escape(lines[0])}</b>"]
    for line in lines[1:]:
        if words.url and line == words.url:
            parts.append(f'<a href="{html.escape(words.url)}">{html.escape(line)}</a>')
        else:
            parts.append(html.escape(line))
    return "\n".join(parts)


# Descriptions of a 400 that mean the chat no longer exists ("Bad Request: chat not found").
GONE_DESCRIPTIONS = ("chat not found",)


def _answer(response: HttpAnswer) -> dict[str, Any]:
    """The Bot API's JSON answer (``ok``, ``error_code``, ``description``, ``parameters``), or {}."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def telegram_gone(response: HttpAnswer) -> Ending | None:
    """403 (Bot API: "Forbidden: bot was blocked by the user", "bot was kicked from the group
    chat", "user is deactivated") or 400 "chat not found": the chat will never take a message
    from the bot again by itself."""
    if response.status_code == 403:
        return Ending.ENDED
    description = str(_answer(response).get("description") or "").lower()
    if response.status_code == 400 and any(text in description for text in GONE_DESCRIPTIONS):
        return Ending.ENDED
    return None


class TelegramChannel:
    name = "telegram"
    medium = Medium.TEXT
    gone = staticmethod(telegram_gone)

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The chat id (``-100…``) or ``@channelusername``; InvalidField otherwise."""
        target = target.strip()
        if not CHAT_ID.match(target):
            raise InvalidField("target", "not_chat_id")
        return target

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """Bot API ``sendMessage``; deferred while the chat's or the bot's rate (settings) is used up."""
        settings = context.settings
        if not settings.telegram_bot_token:
            return SendResult.failure("BANTIN_TELEGRAM_BOT_TOKEN is not set")
        # Telegram's limits: about 1 message/s per chat and 30/s per bot.
        for key, rate in (
            (f"telegram:chat:{outbound.target}", settings.telegram_per_chat_per_second),
            ("telegram:bot", settings.telegram_per_bot_per_second),
        ):
            wait = await context.rate_limit(key, rate)
            if wait:
                return SendResult(ok=False, deferred=True, retry_after=wait)
        url = with_path(settings.telegram_api_base, f"/bot{settings.telegram_bot_token.get_secret_value()}/sendMessage")
        document = {
            "chat_id": outbound.target,
            "text": telegram_html(outbound.message),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": False},
        }
        started = time.perf_counter()
        try:
            response = await context.http.post_json(url, document)
        except HttpFailure as exc:
            # The URL holds the bot token: the failure names the error, never the URL.
            return SendResult.failure(str(exc), duration_ms=elapsed_ms(started))
        return _telegram_result(response, started)


def _telegram_result(response: HttpAnswer, started: float) -> SendResult:
    duration = elapsed_ms(started)
    answer = _answer(response)
    if response.status_code == 200 and answer.get("ok") is True:
        return SendResult(ok=True, status_code=200, duration_ms=duration)
    description = str(answer.get("description") or response.text[:120])
    given = answer.get("parameters")
    parameters: dict[str, Any] = given if isinstance(given, dict) else {}
    error = f"Telegram {response.status_code}: {description}"
    moved = parameters.get("migrate_to_chat_id")
    if isinstance(moved, int) and not isinstance(moved, bool):
        # ResponseParameters.migrate_to_chat_id: the group is a supergroup now, under this id.
        return SendResult.failure(error, response.status_code, moved_to=str(moved), duration_ms=duration)
    retry_after = None
    if response.status_code == 429 or answer.get("error_code") == 429:
        retry_after = float(parameters.get("retry_after") or 1)
    return SendResult.failure(
        error, response.status_code, retry_after=retry_after, gone=telegram_gone(response), duration_ms=duration
    )
