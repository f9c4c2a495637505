"""Real HTTP and SMTP servers on 127.0.0.1 speaking each channel's documented API.

One aiohttp server (in its own thread and event loop) hosts:
- ``/hooks/{name}``: Standard Webhooks receivers whose answers a test can script;
- ``/bot{token}/sendMessage``: the Telegram Bot API;
- ``/slack/{name}``, ``/discord/{name}``, ``/teams/{name}``: incoming webhooks;
- ``/v3.0/oa/message/cs``: the Zalo Official Account message API.
And an aiosmtpd SMTP server keeps every message it receives.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any, ClassVar

from aiohttp import web
from aiosmtpd.controller import Controller

from tests.integration.local_http import LocalHttpServer
from tests.integration.stack import free_port

TELEGRAM_TOKEN = "123456:TEST-token"
ZALO_TOKEN = "zalo-test-access-token"
# The Bot API's HTML parse mode: these tags, balanced; the text after parsing at most 4,096 UTF-16 units.
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span"}


class _TelegramHtml(HTMLParser):
    """Telegram's entity parsing, as far as its documented errors go."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.error = self.error or f'Unexpected end tag "{tag}"'

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def telegram_error(text: str) -> str | None:
    """The Bot API's 400 description for ``text`` in HTML parse mode, or None when it is fine."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if re.search(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        return "Bad Request: can't parse entities: unsupported HTML entity"  # a bare or cut "&…"
    if parser.error or parser.open:
        return f"Bad Request: can't parse entities: {parser.error or 'unclosed tag'}"
    if len("".join(parser.text).encode("utf-16-le")) // 2 > 4096:
        return "Bad Request: message is too long"
    return None


# Chats the Bot API answers as gone, by the chat id's first eight characters: a user who
# blocked the bot (403) and a chat that no longer exists (400), in the Bot API's words.
TELEGRAM_GONE_CHATS = {
    "-1009990": (403, "Forbidden: bot was blocked by the user"),
    "-1009991": (400, "Bad Request: chat not found"),
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


# A behaviour answers (status, body, headers) for the n-th request (0-based) to one path.
Behaviour = Callable[[int], tuple[int, bytes, dict[str, str]]]


def always(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    return lambda _n: (status, body, headers or {})


@dataclass
class Receivers(LocalHttpServer):
    server_name: ClassVar[str] = "receivers"
    # Attachments and batch posts can be large; the fan-out benchmark opens many connections.
    client_max_size: ClassVar[int] = 64 * 1024 * 1024
    backlog: ClassVar[int] = 1024

    port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    requests: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    emails: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "BANTIN_TELEGRAM_API_BASE": self.base,
            "BANTIN_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "BANTIN_ZALO_API_BASE": self.base,
            "BANTIN_ZALO_ACCESS_TOKEN": ZALO_TOKEN,
            "BANTIN_SMTP_HOST": "127.0.0.1",
            "BANTIN_SMTP_PORT": str(self.smtp_port),
            "BANTIN_SMTP_SECURITY": "plain",
            "BANTIN_SMTP_FROM": "Thành ủy Đà Nẵng <bantin@danang.example.vn>",
        }

    def got(self, path: str) -> list[Received]:
        with self.lock:
            return list(self.requests.get(path, []))

    def got_prefix(self, prefix: str) -> dict[str, list[Received]]:
        with self.lock:
            return {path: list(items) for path, items in self.requests.items() if path.startswith(prefix)}

    # ---- server ------------------------------------------------------------------------

    def start(self) -> None:
        """The HTTP receivers, then the SMTP sink."""
        super().start()
        self._smtp = Controller(_SmtpSink(self), hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()

    def stop(self) -> None:
        """The SMTP sink, then the HTTP receivers."""
        self._smtp.stop()
        super().stop()

    def add_routes(self, app: web.Application) -> None:
        """Every receiver's route."""
        app.router.add_post("/hooks/{name}", self._hook)
        app.router.add_post("/bot{token}/sendMessage", self._telegram)
        app.router.add_post("/slack/{name}", self._slack)
        app.router.add_post("/discord/{name}", self._discord)
        app.router.add_post("/teams/{name}", self._teams)
        app.router.add_post("/v3.0/oa/message/cs", self._zalo)
        app.router.add_get("/websub-callback/{name}", self._websub_verify)
        app.router.add_post("/websub-callback/{name}", self._websub_content)

    async def _record(self, request: web.Request) -> tuple[Received, int]:
        body = await request.read()
        received = Received(request.path, {k.lower(): v for k, v in request.headers.items()}, body)
        with self.lock:
            self.requests[request.path].append(received)
            n = len(self.requests[request.path]) - 1
        delay = self.delays.get(request.path) or next(
            (d for prefix, d in self.delays.items() if prefix.endswith("*") and request.path.startswith(prefix[:-1])),
            None,
        )
        if delay:
            await asyncio.sleep(delay)
        return received, n

    def _scripted(self, path: str, n: int, default: Behaviour) -> web.Response:
        status, body, headers = self.behaviours.get(path, default)(n)
        return web.Response(status=status, body=body, headers=headers)

    async def _hook(self, request: web.Request) -> web.Response:
        _, n = await self._record(request)
        return self._scripted(request.path, n, always(204))

    async def _slack(self, request: web.Request) -> web.Response:
        received, n = await self._record(request)
        for block in received.json().get("blocks", []):
            if len(block.get("text", {}).get("text", "")) > 3000:  # Block Kit: a section's text
                return web.Response(status=400, text="invalid_blocks")
        return self._scripted(request.path, n, always(200, b"ok", {"Content-Type": "text/plain"}))

    async def _discord(self, request: web.Request) -> web.Response:
        received, n = await self._record(request)
        if len(received.json().get("content", "").encode("utf-16-le")) // 2 > 2000:
            return web.json_response(
                {"code": 50035, "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}}, status=400
            )
        return self._scripted(request.path, n, always(204))

    async def _teams(self, request: web.Request) -> web.Response:
        _, n = await self._record(request)
        return self._scripted(request.path, n, always(202))

    async def _telegram(self, request: web.Request) -> web.Response:
        received, n = await self._record(request)
        if request.match_info["token"] != TELEGRAM_TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        scripted = self.behaviours.get(request.path)
        if scripted is not None:
            status, body, headers = scripted(n)
            return web.Response(status=status, body=body, headers={"Content-Type": "application/json", **headers})
        message = received.json()
        gone = TELEGRAM_GONE_CHATS.get(str(message.get("chat_id"))[:8])
        if gone is not None:
            status, description = gone
            return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)
        error = telegram_error(message["text"]) if message.get("parse_mode") == "HTML" else None
        if error:
            return web.json_response({"ok": False, "error_code": 400, "description": error}, status=400)
        result = {"message_id": n + 1, "chat": {"id": message["chat_id"]}, "date": 0, "text": message["text"]}
        return web.json_response({"ok": True, "result": result})

    async def _websub_verify(self, request: web.Request) -> web.Response:
        """A WebSub subscriber confirming its intent by echoing the challenge (unless told to refuse)."""
        path = request.path + "?verify"
        with self.lock:
            self.requests[path].append(Received(path, dict(request.query), b""))
        if self.delays.get(path):
            await asyncio.sleep(self.delays[path])
        if self.behaviours.get(path) is not None:
            status, body, headers = self.behaviours[path](0)
            return web.Response(status=status, body=body, headers=headers)
        return web.Response(text=request.query.get("hub.challenge", ""))

    async def _websub_content(self, request: web.Request) -> web.Response:
        _, n = await self._record(request)
        return self._scripted(request.path, n, always(204))

    async def _zalo(self, request: web.Request) -> web.Response:
        received, _ = await self._record(request)
        if received.headers.get("access_token") != ZALO_TOKEN:
            # Zalo answers 200 with a non-zero error for a bad token.
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        user = received.json()["recipient"]["user_id"]
        if user.startswith("999"):
            return web.json_response({"error": -213, "message": "User has not followed the OA"})
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": "m1", "user_id": user}})


class _SmtpSink:
    def __init__(self, receivers: Receivers) -> None:
        self.receivers = receivers

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.receivers.lock:
            self.receivers.emails.append(message)
        return "250 Message accepted for delivery"
