"""A local Zalo Official Account, both ways, speaking the OA API's documented shapes.

Inbound to Bantin: :meth:`ZaloOa.deliver` posts a webhook event to ``/zalo/webhook``
signed as Zalo signs it (header ``X-ZEvent-Signature: mac=<sha256(app_id + body +
timestamp + OA secret key)>``), with the documented bodies of ``follow``, ``unfollow`` and
``user_send_text`` (:meth:`follow`, :meth:`unfollow`, :meth:`says`).

Outbound from Bantin: an aiohttp server (own thread and loop) answering
``POST /v3.0/oa/message/cs`` as the OA API does: HTTP 200 whatever happens, ``"error": 0``
and ``data.message_id`` on success; ``-216`` for a wrong ``access_token`` header; ``-201``
for a body without ``recipient.user_id`` or ``message.text``, or a text over 2,000
characters; ``-213`` "User has not followed OA" for a user who does not follow the OA
now (the server keeps its followers: a follow adds one, an unfollow removes one).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from aiohttp import web

from service.readers.zalo_webhook import SIGNATURE_HEADER, signature_of
from tests.integration.local_http import LocalHttpServer
from tests.integration.stack import free_port

APP_ID = "360846524940903967"
OA_ID = "579745863508352884"
OA_SECRET_KEY = "local-oa-secret-key-0123456789"
ACCESS_TOKEN = "local-oa-access-token"


@dataclass(frozen=True)
class Sent:
    """One message the OA was asked to send: to whom, what, and the answer's error code."""

    user_id: str
    text: str
    error: int


@dataclass
class ZaloOa(LocalHttpServer):
    server_name: ClassVar[str] = "local OA API"

    port: int = field(default_factory=free_port)
    followers: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _clock: itertools.count[int] = field(default_factory=lambda: itertools.count(int(time.time() * 1000)))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What a stack needs to be this OA's app: API base, access token, app id, OA secret key."""
        return {
            "BANTIN_ZALO_API_BASE": self.base,
            "BANTIN_ZALO_ACCESS_TOKEN": ACCESS_TOKEN,
            "BANTIN_ZALO_APP_ID": APP_ID,
            "BANTIN_ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
        }

    def messages_to(self, user_id: str) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.user_id == user_id]

    # ---- webhook events (Zalo → Bantin) ------------------------------------------------

    def timestamp(self) -> str:
        """A fresh event time, milliseconds, strictly growing (two events never share one)."""
        return str(next(self._clock))

    def follow_event(self, user_id: str) -> dict[str, Any]:
        return {
            "oa_id": OA_ID,
            "follower": {"id": user_id},
            "user_id_by_app": f"5{user_id[1:]}",
            "event_name": "follow",
            "source": "oa_profile",
            "app_id": APP_ID,
            "timestamp": self.timestamp(),
        }

    def text_event(self, user_id: str, text: str) -> dict[str, Any]:
        stamp = self.timestamp()
        return {
            "app_id": APP_ID,
            "user_id_by_app": f"5{user_id[1:]}",
            "event_name": "user_send_text",
            "timestamp": stamp,
            "sender": {"id": user_id},
            "recipient": {"id": OA_ID},
            "message": {"text": text, "msg_id": f"msg{stamp}"},
        }

    def deliver(self, webhook: str, event: dict[str, Any], secret: str = OA_SECRET_KEY) -> httpx.Response:
        """POST ``event`` to ``webhook`` signed as Zalo signs it (``secret`` other than the OA's: a forgery)."""
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        mac = signature_of(APP_ID, body, str(event["timestamp"]), secret)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: f"mac={mac}"}
        return httpx.post(webhook, content=body, headers=headers, timeout=10)

    def follow(self, webhook: str, user_id: str) -> httpx.Response:
        with self.lock:
            self.followers.add(user_id)
        return self.deliver(webhook, self.follow_event(user_id))

    def unfollow(self, webhook: str, user_id: str) -> httpx.Response:
        with self.lock:
            self.followers.discard(user_id)
        return self.deliver(webhook, {**self.follow_event(user_id), "event_name": "unfollow"})

    def says(self, webhook: str, user_id: str, text: str) -> httpx.Response:
        return self.deliver(webhook, self.text_event(user_id, text))

    # ---- the OA API (Bantin → Zalo) ----------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """The local OA API's routes."""
        app.router.add_post("/v3.0/oa/message/cs", self._message)

    async def _message(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") != ACCESS_TOKEN:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        try:
            document = await request.json()
            user_id = str(document["recipient"]["user_id"])
            text = str(document["message"]["text"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": -201, "message": "Parameters are invalid"})
        if not text or len(text) > 2000:
            return web.json_response({"error": -201, "message": "message.text is invalid"})
        with self.lock:
            following = user_id in self.followers
            error = 0 if following else -213
            self.sent.append(Sent(user_id, text, error))
            number = len(self.sent)
        if not following:
            return web.json_response({"error": -213, "message": "User has not followed OA"})
        data = {"message_id": f"{number:020x}", "user_id": user_id}
        return web.json_response({"error": 0, "message": "Success", "data": data})
