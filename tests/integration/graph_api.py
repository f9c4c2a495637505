"""A local Graph API for one Facebook Page, speaking the shapes Meta documents.

- ``GET /v24.0/{page-id}?fields=id,name``: the Page (how `bantin facebook connect` checks the token);
- ``POST /v24.0/{page-id}/feed`` (form: ``message``, ``link``, ``access_token``): ``{"id":
  "{page-id}_{n}"}``; the post is kept;
- ``GET /v24.0/{page-id}/feed?fields=id,message``: ``{"data": [...]}``, newest first;
- ``DELETE /v24.0/{post-id}``: ``{"success": true}``; a post that does not exist: code 100,
  subcode 33 ("Unsupported delete request");
- errors as ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``: a token
  other than the Page's is 190/460 (the session invalidated); ``script`` queues answers for
  the next posts (throttling with the usage headers, a refusal); ``slow`` makes the server
  keep the post but answer too late (an answer lost after Facebook made the post).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from tests.integration.local_http import LocalHttpServer
from tests.integration.stack import free_port

PAGE_ID = "104381234567890"
PAGE_TOKEN = "EAAGlocalPageToken0123456789"
VERSION = "/v24.0"


def graph_error(code: int, message: str, subcode: int | None = None, kind: str = "OAuthException") -> dict[str, Any]:
    """The Graph API's error object."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


EXPIRED = graph_error(
    190,
    "Error validating access token: The session has been invalidated because the user changed their password "
    "or Facebook has changed the session for security reasons.",
    460,
)
THROTTLED = graph_error(32, "Page request limit reached", kind="OAuthException")
# A post Facebook refuses: the same message posted twice in a row (code 506).
DUPLICATE = graph_error(506, "Duplicate status message", kind="FacebookApiException")


@dataclass
class Post:
    id: str
    message: str
    link: str | None
    deleted: bool = False


@dataclass
class GraphApi(LocalHttpServer):
    server_name: ClassVar[str] = "local Graph API"

    port: int = field(default_factory=free_port)
    token: str = PAGE_TOKEN
    posts: list[Post] = field(default_factory=list)
    # The next POST answers, in order: (status, body, headers); consumed one per POST.
    script: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    # Seconds the next POST waits after making its post before it answers.
    slow: float = 0.0
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{VERSION}"

    def env(self) -> dict[str, str]:
        return {"BANTIN_FACEBOOK_GRAPH_BASE": self.base, "BANTIN_FACEBOOK_PAGE_TOKEN": PAGE_TOKEN}

    def live(self, link: str) -> list[Post]:
        """The Page's posts for ``link`` that are not deleted."""
        with self.lock:
            return [p for p in self.posts if p.link == link and not p.deleted]

    def made(self, link: str) -> list[Post]:
        with self.lock:
            return [p for p in self.posts if p.link == link]

    def add_routes(self, app: web.Application) -> None:
        """The Page, its feed (read and publish) and its posts (delete)."""
        app.router.add_get(VERSION + "/{page}/feed", self._feed)
        app.router.add_post(VERSION + "/{page}/feed", self._publish)
        app.router.add_get(VERSION + "/{page}", self._page)
        app.router.add_delete(VERSION + "/{post}", self._delete)

    def _refused(self, token: str | None) -> web.Response | None:
        if token != self.token:
            return web.json_response(EXPIRED, status=400)
        return None

    async def _page(self, request: web.Request) -> web.Response:
        self.calls.append("GET page")
        refused = self._refused(request.query.get("access_token"))
        if refused is not None:
            return refused
        if request.match_info["page"] != PAGE_ID:
            return web.json_response(graph_error(100, "Object does not exist", 33, "GraphMethodException"), status=400)
        return web.json_response({"id": PAGE_ID, "name": "Báo Đà Nẵng"})

    async def _feed(self, request: web.Request) -> web.Response:
        self.calls.append("GET feed")
        refused = self._refused(request.query.get("access_token"))
        if refused is not None:
            return refused
        limit = int(request.query.get("limit", "25"))
        with self.lock:
            live = [{"id": p.id, "message": p.message} for p in reversed(self.posts) if not p.deleted]
        return web.json_response({"data": live[:limit], "paging": {}})

    async def _publish(self, request: web.Request) -> web.Response:
        self.calls.append("POST feed")
        form = await request.post()
        refused = self._refused(str(form.get("access_token") or "") or None)
        if refused is not None:
            return refused
        with self.lock:
            scripted = self.script.pop(0) if self.script else None
        if scripted is not None:
            status, body, headers = scripted
            return web.json_response(body, status=status, headers=headers)
        message = str(form.get("message") or "")
        if not message and not form.get("link"):
            return web.json_response(graph_error(100, "Invalid parameter", kind="GraphMethodException"), status=400)
        with self.lock:
            post = Post(f"{PAGE_ID}_{len(self.posts) + 1}", message, str(form.get("link") or "") or None)
            self.posts.append(post)
            slow, self.slow = self.slow, 0.0
        if slow:
            await asyncio.sleep(slow)  # the post is made; the answer comes too late
        return web.json_response({"id": post.id})

    async def _delete(self, request: web.Request) -> web.Response:
        self.calls.append("DELETE post")
        refused = self._refused(request.query.get("access_token"))
        if refused is not None:
            return refused
        post_id = request.match_info["post"]
        with self.lock:
            post = next((p for p in self.posts if p.id == post_id and not p.deleted), None)
            if post is not None:
                post.deleted = True
        if post is None:
            message = (
                f"Unsupported delete request. Object with ID '{post_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation."
            )
            return web.json_response(graph_error(100, message, 33, "GraphMethodException"), status=400)
        return web.json_response({"success": True})


def usage_headers(minutes: int) -> dict[str, str]:
    """The Business Use Case usage header of a throttled Page token (Rate Limits)."""
    usage = {
        PAGE_ID: [
            {"type": "pages", "call_count": 100, "total_cputime": 20, "total_time": 30,
             "estimated_time_to_regain_access": minutes}
        ]
    }  # fmt: skip
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}
