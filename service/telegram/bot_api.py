"""Calls to the Bot API (``BANTIN_TELEGRAM_API_BASE``): the bot's own methods, synchronous.

Announcements go through the delivery rows and ``service.channels.telegram``; this client
is for what the bot does in a conversation and for its set-up: ``sendMessage`` replies,
``answerCallbackQuery``, ``getMe``, ``setWebhook``, ``deleteWebhook`` and ``getUpdates``.
The URL holds the bot token, so no error, log line or exception ever names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from config.settings import Settings
from service.json_input import JsonRefused, parse_json
from service.urls import with_path

# getUpdates waits up to its own timeout for an update: the client waits this much longer.
LONG_POLL_MARGIN_SECONDS = 10.0
# The most of an answer read: getUpdates brings at most 100 updates (polling.BATCH), each a
# message of at most 4,096 characters with its entities and the message it replies to.
MAX_ANSWER_BYTES = 8 * 1024 * 1024


def _read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The answer's body, or None when it is longer than ``limit`` bytes (read no further)."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class BotApiError(Exception):
    """The Bot API refused a call (``{"ok": false, …}``) or did not answer.

    ``error_code`` is Telegram's (0 when there was no answer); ``migrate_to_chat_id`` and
    ``retry_after`` come from its ResponseParameters."""

    def __init__(
        self,
        method: str,
        error_code: int,
        description: str,
        migrate_to_chat_id: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        code = f"Telegram {error_code}: " if error_code else ""
        super().__init__(f"{method}: {code}{description}")
        self.method = method
        self.error_code = error_code
        self.description = description
        self.migrate_to_chat_id = migrate_to_chat_id
        self.retry_after = retry_after

    @property
    def chat_gone(self) -> bool:
        """The chat will take no message again: the bot was blocked, kicked or the user
        deleted (403), or the chat does not exist (400 "chat not found")."""
        return self.error_code == 403 or (self.error_code == 400 and "chat not found" in self.description.lower())


@dataclass
class BotApi:
    """One keep-alive HTTP client for the bot's calls; use it as a context manager."""

    settings: Settings
    # getUpdates holds the request open for BANTIN_TELEGRAM_POLL_TIMEOUT_SECONDS.
    long_poll: bool = False
    client: httpx.Client | None = None

    def __enter__(self) -> BotApi:
        """Open the client: ``BANTIN_DELIVERY_TIMEOUT_SECONDS`` per call, plus the long-poll
        wait and a margin for a poller (a reply must not hold a webhook request longer)."""
        timeout = self.settings.delivery_timeout_seconds
        if self.long_poll:
            timeout += self.settings.telegram_poll_timeout_seconds + LONG_POLL_MARGIN_SECONDS
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Close the client."""
        if self.client is not None:
            self.client.close()
            self.client = None

    def call(self, method: str, parameters: dict[str, Any] | None = None) -> Any:
        """POST ``parameters`` as JSON to ``/bot<token>/<method>``; the answer's ``result``.

        Raises ``BotApiError`` for ``ok: false`` (with Telegram's code and description), a
        body that is not the Bot API's shape, or no answer at all (code 0)."""
        if not self.settings.telegram_bot_token.get_secret_value():
            raise BotApiError(method, 0, "BANTIN_TELEGRAM_BOT_TOKEN is not set")
        if self.client is None:
            raise RuntimeError("BotApi is used outside its with block")
        token = self.settings.telegram_bot_token.get_secret_value()
        url = with_path(self.settings.telegram_api_base, f"/bot{token}/{method}")
        try:
            with self.client.stream("POST", url, json=parameters or {}) as response:
                content = _read_at_most(response, MAX_ANSWER_BYTES)
        except httpx.HTTPError as exc:
            # The exception's text may hold the URL, and with it the token.
            raise BotApiError(method, 0, f"no answer ({type(exc).__name__})") from None
        try:
            answer = None if content is None else parse_json(content)  # an answer from outside: bounded
        except JsonRefused:
            answer = None
        if not isinstance(answer, dict) or "ok" not in answer:
            shown = (
                f"longer than {MAX_ANSWER_BYTES} bytes"
                if content is None
                else repr(content[:120].decode("utf-8", "replace"))
            )
            raise BotApiError(method, response.status_code, f"not a Bot API answer: {shown}")
        if answer["ok"] is True:
            return answer.get("result")
        given = answer.get("parameters")
        parameters_back: dict[str, Any] = given if isinstance(given, dict) else {}
        migrate = parameters_back.get("migrate_to_chat_id")
        retry = parameters_back.get("retry_after")
        raise BotApiError(
            method,
            int(answer.get("error_code") or response.status_code),
            str(answer.get("description") or "no description"),
            migrate if isinstance(migrate, int) and not isinstance(migrate, bool) else None,
            float(retry) if isinstance(retry, int | float) and not isinstance(retry, bool) else None,
        )
