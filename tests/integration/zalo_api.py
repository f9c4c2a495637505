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
now (the server keeps its followers: a follow adds one, an unfollow removes one); ``-230``
"User has not interacted with the OA in the past 7 days" for a follower whose last
interaction (follow or message, by the event's timestamp) is over 7 days old, or whom
:meth:`ZaloOa.forget_interaction` made so.

And ``POST /v3.0/oa/message/promotion`` (decision 0040): the ``promotion`` template
(``message.attachment`` of type ``template``, ``elements`` of ``banner``/``header``/``text``/
``table``, ``buttons`` of ``oa.open.url``/``oa.query.*``) checked as documented (``-201``
naming what is malformed: header over 100 characters, text over 1,000, a button title over
35, an unknown element or button type, a banner without an image); any follower, window or
not; at most ``promotion_quota`` per window of ``quota_window_seconds`` (counted from the
epoch, as Bantin's ``BANTIN_ZALO_PROMOTION_QUOTA_WINDOW_SECONDS`` does), then ``-211`` "Out
of quota".
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
    """One message the OA was asked to send: to whom, what, the answer's error code, the form
    (``cs`` or ``promotion``) and, for a promotion, its template payload."""

    user_id: str
    text: str
    error: int
    form: str = "cs"
    template: dict[str, Any] | None = None


WINDOW_MS = 7 * 86400 * 1000
NOT_INTERACTED = "User has not interacted with the OA in the past 7 days"
ELEMENT_TYPES = frozenset({"banner", "header", "text", "table"})
BUTTON_TYPES = frozenset({"oa.open.url", "oa.query.show", "oa.query.hide", "oa.open.sms", "oa.open.phone"})


def template_problem(payload: object) -> str | None:
    """What is malformed in a promotion template payload, in the API's words, or None."""
    if not isinstance(payload, dict) or payload.get("template_type") != "promotion":
        return "template_type is invalid"
    elements = payload.get("elements")
    if not isinstance(elements, list) or not elements or len(elements) > 5:
        return "elements is invalid"
    for element in elements:
        kind = element.get("type") if isinstance(element, dict) else None
        if kind not in ELEMENT_TYPES:
            return "element.type is invalid"
        content = element.get("content")
        if kind == "banner" and not (element.get("image_url") or element.get("attachment_id")):
            return "banner.image_url is invalid"
        if kind == "header" and not (isinstance(content, str) and 0 < len(content) <= 100):
            return "header.content is invalid"
        if kind == "text" and not (isinstance(content, str) and 0 < len(content) <= 1000):
            return "text.content is invalid"
    buttons = payload.get("buttons", [])
    if not isinstance(buttons, list) or len(buttons) > 4:
        return "buttons is invalid"
    for button in buttons:
        if not isinstance(button, dict) or button.get("type") not in BUTTON_TYPES:
            return "button.type is invalid"
        title = button.get("title")
        if not (isinstance(title, str) and 0 < len(title) <= 35):
            return "button.title is invalid"
        if button["type"] == "oa.open.url" and not str((button.get("payload") or {}).get("url", "")).startswith("http"):
            return "button.payload.url is invalid"
    return None


@dataclass
class ZaloOa(LocalHttpServer):
    server_name: ClassVar[str] = "local OA API"

    port: int = field(default_factory=free_port)
    followers: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Each follower's last interaction with the OA (epoch ms), from the events' timestamps.
    interactions: dict[str, int] = field(default_factory=dict)
    promotion_quota: int | None = None
    quota_window_seconds: int = 0
    promotions_in_window: dict[int, int] = field(default_factory=dict)
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
        event = self.follow_event(user_id)
        with self.lock:
            self.followers.add(user_id)
            self.interactions[user_id] = int(event["timestamp"])
        return self.deliver(webhook, event)

    def forget_interaction(self, user_id: str) -> None:
        """As if 8 days passed since the follower last interacted (on Zalo's side only)."""
        with self.lock:
            self.interactions[user_id] = int(time.time() * 1000) - WINDOW_MS - 86400 * 1000

    def unfollow(self, webhook: str, user_id: str) -> httpx.Response:
        with self.lock:
            self.followers.discard(user_id)
        return self.deliver(webhook, {**self.follow_event(user_id), "event_name": "unfollow"})

    def says(self, webhook: str, user_id: str, text: str) -> httpx.Response:
        event = self.text_event(user_id, text)
        with self.lock:
            self.interactions[user_id] = int(event["timestamp"])
        return self.deliver(webhook, event)

    # ---- the OA API (Bantin → Zalo) ----------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """The local OA API's routes."""
        app.router.add_post("/v3.0/oa/message/cs", self._message)
        app.router.add_post("/v3.0/oa/message/promotion", self._promotion)

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
            in_window = time.time() * 1000 - self.interactions.get(user_id, 0) <= WINDOW_MS
            error = 0 if following and in_window else -213 if not following else -230
            self.sent.append(Sent(user_id, text, error))
            number = len(self.sent)
        if not following:
            return web.json_response({"error": -213, "message": "User has not followed OA"})
        if not in_window:
            return web.json_response(
                {"error": -230, "message": "User has not interacted with the OA in the past 7 days"}
            )
        data = {"message_id": f"{number:020x}", "user_id": user_id}
        return web.json_response({"error": 0, "message": "Success", "data": data})

    def _window(self) -> int:
        seconds = self.quota_window_seconds
        now = time.time()
        if seconds:
            return int(now // seconds)
        local = time.gmtime(now + 7 * 3600)  # Zalo's month, in Vietnam's time
        return local.tm_year * 12 + local.tm_mon

    async def _promotion(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") != ACCESS_TOKEN:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        try:
            document = await request.json()
            user_id = str(document["recipient"]["user_id"])
            attachment = document["message"]["attachment"]
            payload = attachment["payload"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": -201, "message": "Parameters are invalid"})
        problem = "attachment.type is invalid" if attachment.get("type") != "template" else template_problem(payload)
        if problem is not None:
            return web.json_response({"error": -201, "message": problem})
        words = "\n".join(str(e.get("content", "")) for e in payload["elements"] if e["type"] in ("header", "text"))
        with self.lock:
            window = self._window()
            used = self.promotions_in_window.get(window, 0)
            following = user_id in self.followers
            over = self.promotion_quota is not None and used >= self.promotion_quota
            error = -213 if not following else -211 if over else 0
            if error == 0:
                self.promotions_in_window[window] = used + 1
            self.sent.append(Sent(user_id, words, error, "promotion", payload))
            number = len(self.sent)
        if error == -213:
            return web.json_response({"error": -213, "message": "User has not followed OA"})
        if error == -211:
            return web.json_response({"error": -211, "message": "Out of quota"})
        data = {"message_id": f"{number:020x}", "user_id": user_id}
        return web.json_response({"error": 0, "message": "Success", "data": data})
