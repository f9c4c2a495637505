"""A local Telegram Bot API: the methods the readers' bot calls, in the documented shapes.

``/bot<token>/<method>`` answers ``{"ok": true, "result": …}`` or the error body
``{"ok": false, "error_code": …, "description": …, "parameters": …}``:
getMe, setWebhook (url, secret_token, allowed_updates), deleteWebhook, getUpdates (long
polling with offset and timeout; 409 while a webhook is set), sendMessage (403 for a
chat that blocked the bot, 400 "chat not found", 400 with
``parameters.migrate_to_chat_id`` for a group that became a supergroup; HTML parse mode
and inline keyboards checked) and answerCallbackQuery. ``deliver`` plays Telegram's
side of a webhook: it POSTs an update with the ``X-Telegram-Bot-Api-Secret-Token``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from aiohttp import web

from tests.integration.local_http import LocalHttpServer
from tests.integration.receivers import telegram_error
from tests.integration.stack import free_port

BOT_TOKEN = "7000001:LOCAL-bot-token"
BOT_USERNAME = "BantinTestBot"
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
CHAT_NOT_FOUND = "Bad Request: chat not found"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"


def _error(code: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


@dataclass
class BotApiServer(LocalHttpServer):
    server_name: ClassVar[str] = "local Bot API"

    port: int = field(default_factory=free_port)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    # Updates waiting for getUpdates, oldest first; confirmed ones are dropped.
    pending: list[dict[str, Any]] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    migrated: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(700_000))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"BANTIN_TELEGRAM_API_BASE": self.base, "BANTIN_TELEGRAM_BOT_TOKEN": BOT_TOKEN}

    # ---- what a test reads and does ------------------------------------------------------

    def got(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [parameters for name, parameters in self.calls if name == method]

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.got("sendMessage") if str(m.get("chat_id")) == str(chat_id)]

    def next_update_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def queue(self, update: dict[str, Any]) -> None:
        """Hold an update for getUpdates, as Telegram does while no webhook is set."""
        with self.lock:
            self.pending.append(update)

    def deliver(self, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        """POST ``update`` to the webhook set with setWebhook, with its secret unless told otherwise."""
        with self.lock:
            url, token = self.webhook["url"], self.webhook.get("secret_token")
        headers = {"X-Telegram-Bot-Api-Secret-Token": str(secret if secret is not None else token)}
        return httpx.post(url, json=update, headers=headers, timeout=15)

    # ---- server --------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """The local Bot API's routes."""
        app.router.add_route("*", "/bot{token}/{method}", self._method)

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        raw = await request.read()
        try:
            parameters = json.loads(raw) if raw else {}
        except ValueError:
            return _error(400, "Bad Request: invalid JSON")
        with self.lock:
            self.calls.append((method, parameters))
        handler = {
            "getMe": self._get_me,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._answer_callback,
        }.get(method)
        if handler is None:
            return _error(404, "Not Found")
        return await handler(parameters)

    async def _get_me(self, _: dict[str, Any]) -> web.Response:
        me = {"id": 7000001, "is_bot": True, "first_name": "Bản tin", "username": BOT_USERNAME}
        return web.json_response({"ok": True, "result": me})

    async def _set_webhook(self, parameters: dict[str, Any]) -> web.Response:
        if not str(parameters.get("url", "")).startswith(("http://", "https://")):
            return _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        with self.lock:
            self.webhook = dict(parameters)
        return web.json_response({"ok": True, "result": True, "description": "Webhook was set"})

    async def _delete_webhook(self, _: dict[str, Any]) -> web.Response:
        with self.lock:
            self.webhook = {}
        return web.json_response({"ok": True, "result": True, "description": "Webhook was deleted"})

    async def _get_updates(self, parameters: dict[str, Any]) -> web.Response:
        with self.lock:
            if self.webhook:
                return _error(409, WEBHOOK_ACTIVE)
            offset = parameters.get("offset")
            if isinstance(offset, int):  # confirms every update before it
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
        deadline = asyncio.get_running_loop().time() + float(parameters.get("timeout", 0))
        limit = int(parameters.get("limit", 100))
        while True:
            with self.lock:
                ready = self.pending[:limit]
            if ready or asyncio.get_running_loop().time() >= deadline or self._stop.is_set():
                return web.json_response({"ok": True, "result": ready})
            await asyncio.sleep(0.05)

    async def _send_message(self, parameters: dict[str, Any]) -> web.Response:
        try:
            chat_id = int(parameters["chat_id"])
        except (KeyError, TypeError, ValueError):
            return _error(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked:
            return _error(403, BLOCKED)
        if chat_id in self.missing:
            return _error(400, CHAT_NOT_FOUND)
        if chat_id in self.migrated:
            return _error(400, UPGRADED, migrate_to_chat_id=self.migrated[chat_id])
        text = parameters.get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "Bad Request: message text is empty")
        error = telegram_error(text) if parameters.get("parse_mode") == "HTML" else None
        if error is None and len(text.encode("utf-16-le")) // 2 > 4096:
            error = "Bad Request: message is too long"
        if error is None and "reply_markup" in parameters:
            error = _keyboard_error(parameters["reply_markup"])
        if error:
            return _error(400, error)
        result = {"message_id": len(self.calls), "date": 0, "chat": {"id": chat_id}, "text": text}
        return web.json_response({"ok": True, "result": result})

    async def _answer_callback(self, parameters: dict[str, Any]) -> web.Response:
        if not parameters.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(str(parameters.get("text", ""))) > 200:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        return web.json_response({"ok": True, "result": True})


def _keyboard_error(markup: Any) -> str | None:
    """InlineKeyboardMarkup: an array of button rows; each button a text and 1-64 bytes of callback_data."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not button.get("text"):
            return "Bad Request: text buttons are unallowed in the inline keyboard"
        if not 1 <= len(str(button.get("callback_data", "")).encode()) <= 64:
            return "Bad Request: BUTTON_DATA_INVALID"
    return None


# ---- updates as Telegram sends them ---------------------------------------------------------


def user(language_code: str = "vi", user_id: int = 5550001) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Lan", "language_code": language_code}


def chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Lan"}
    return {"id": chat_id, "type": "supergroup" if str(chat_id).startswith("-100") else "group", "title": "Tòa soạn"}


def message_update(update_id: int, chat_id: int, text: str, language_code: str = "vi") -> dict[str, Any]:
    message = {
        "message_id": update_id % 100_000,
        "from": user(language_code),
        "chat": chat(chat_id),
        "date": 1_764_400_000,
    }
    message["text"] = text
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}]
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, chat_id: int, data: str, language_code: str = "vi") -> dict[str, Any]:
    keyboard_message = {"message_id": 1, "from": {"id": 7000001, "is_bot": True, "first_name": "Bản tin"},
                        "chat": chat(chat_id), "date": 1_764_400_000, "text": "…"}  # fmt: skip
    query = {"id": f"cbq{update_id}", "from": user(language_code), "message": keyboard_message,
             "chat_instance": "-1", "data": data}  # fmt: skip
    return {"update_id": update_id, "callback_query": query}
