"""The public documents — feeds, /calendar.ics — and /healthz, served as raw ASGI; and
the public pages' 304s, answered from the site's generation kept here.

These are the busiest routes (every feed reader and calendar app polls them), so they
skip FastAPI's routing, dependency injection and the thread pool: the bytes, variants
and header lists are built once per stored version and kept in memory
(``service/api/document_cache.py``, which also says how they stay fresh), and a request
is a dictionary look-up and two ``send`` calls. The HTTP rules are ``service/web/http.py``
(validators) and ``service/web/negotiation.py`` (content codings, HTML or not).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import get_settings
from service.api import pages
from service.api.document_cache import SQLITE_RECHECK_SECONDS, ChangeListener, DocumentCache
from service.api.generation_pages import page_from_memory
from service.db.engine import get_engine
from service.feeds.documents import CALENDAR_FORMAT
from service.feeds.render import FILENAMES
from service.feeds.scopes import CALENDAR, CORRECTIONS, SITE, category_scope
from service.feeds.urls import CORRECTIONS_FEED_PATH
from service.i18n import request_language
from service.inputs import is_slug
from service.observability.metrics import FEED_REQUESTS_TALLY
from service.web.http import (
    SITE_GENERATION_KEY,
    etag_matches,
    field_value,
    is_page_path,
    page_etag,
    security_headers,
    unchanged_since,
)
from service.web.negotiation import Negotiator
from service.web.templating import branding

FORMAT_BY_FILENAME = {filename: fmt for fmt, filename in FILENAMES.items()}
HEALTHZ_BODY = b'{"status":"ok"}'


@dataclass(frozen=True)
class RouteTemplate:
    """What ``RequestObservability`` reads as ``scope["route"].path``: metrics and access
    logs label requests by template, never by raw path (slugs would be unbounded labels)."""

    path: str


HEALTHZ_ROUTE = RouteTemplate("/healthz")
# Paths under these are public pages' or nothing: what is not a page's address is answered
# with a redirect to one or with the HTML 404 page (``pages.misaddressed_page``).
MISADDRESSABLE = ("/articles/", "/categories/")
PAGE_ROUTES = {
    template: RouteTemplate(template)
    for template in (pages.HOME_ROUTE, pages.CATEGORY_ROUTE, pages.ARTICLE_ROUTE, *pages.FIXED_ROUTES)
}
CALENDAR_ROUTE = RouteTemplate("/calendar.ics")
SITE_FEED_ROUTE = RouteTemplate("/feeds/{filename}")
CATEGORY_FEED_ROUTE = RouteTemplate("/feeds/categories/{slug}/{filename}")
CORRECTIONS_FEED_ROUTE = RouteTemplate(CORRECTIONS_FEED_PATH + "/{filename}")


def document_for_path(path: str) -> tuple[str, str] | None:
    """``/feeds/atom.xml`` → (scope, format); None for a path that is not a document."""
    if path == "/calendar.ics":
        return CALENDAR, CALENDAR_FORMAT
    if not path.startswith("/feeds/"):
        return None
    parts = path[len("/feeds/") :].split("/")
    if len(parts) == 1:
        scope, filename = SITE, parts[0]
    elif len(parts) == 2 and parts[0] == CORRECTIONS_FEED_PATH.rsplit("/", 1)[1]:
        scope, filename = CORRECTIONS, parts[1]
    elif len(parts) == 3 and parts[0] == "categories" and is_slug(parts[1]):  # what else would reach a query
        scope, filename = category_scope(parts[1]), parts[2]
    else:
        return None
    fmt = FORMAT_BY_FILENAME.get(filename)
    return None if fmt is None else (scope, fmt)


class PublicDocuments:
    """Serve GET and HEAD of feeds, /calendar.ics and /healthz; pass everything else on,
    HEAD as a GET without its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        seconds = get_settings().feed_recheck_seconds
        self._listen = get_engine().dialect.name == "postgresql"
        if not self._listen:
            seconds = min(seconds, SQLITE_RECHECK_SECONDS)
        self.cache = DocumentCache(seconds)
        self.listener: ChangeListener | None = None
        self._negotiator = Negotiator()
        self._page_headers: tuple[str, list[tuple[bytes, bytes]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._listen:
            self._listen = False
            self.listener = ChangeListener(self.cache, get_settings().effective_database_url)
            self.listener.start()
        if scope["type"] == "lifespan":
            await self.app(scope, self._stop_listening_at_shutdown(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if scope["method"] not in ("GET", "HEAD"):
            route = _answered_here(path)
            if route is not None:  # RFC 9110 §15.5.6: a 405 names the methods the resource has
                scope["route"] = route
                await _send_json(send, scope, 405, "Method Not Allowed", [(b"allow", b"GET, HEAD")])
            else:
                await self.app(scope, receive, send)
            return
        if path == "/healthz":
            scope["route"] = HEALTHZ_ROUTE
            await _send(send, scope, 200, _HEALTHZ_HEADERS, HEALTHZ_BODY)
            return
        if is_page_path(path):
            await self._page(scope, send)
            return
        if path.startswith(MISADDRESSABLE):  # "/articles/5", "/categories/thoi-su/": never FastAPI's JSON 404
            await _send_page(send, scope, pages.misaddressed_page)
            return
        document = document_for_path(path)
        if document is None:
            if path.startswith("/feeds/"):
                await _send_not_found(send, scope, "no feed here; feeds are rss.xml, atom.xml and feed.json")
            elif scope["method"] == "HEAD":
                await head_as_get(self.app, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        feed, fmt = document
        scope["route"] = _document_route(feed)
        entry = await self.cache.get(feed, fmt)
        if entry is None:
            await _send_not_found(send, scope, "no such feed" if path != "/calendar.ics" else "no calendar yet")
            return
        headers = scope["headers"]
        coding = self._negotiator.coding(field_value(headers, b"accept-encoding"))
        variant = entry.variants.get(coding) or entry.variants[None]
        if_none_match = field_value(headers, b"if-none-match")
        accept = field_value(headers, b"accept")
        wants_page = accept is not None and self._negotiator.wants_page(accept)
        if if_none_match is not None:
            fresh = etag_matches(if_none_match, variant.etag.decode())
        else:
            fresh = unchanged_since(field_value(headers, b"if-modified-since"), entry.last_modified)
        # Only documents that exist are counted: made-up slugs add no label values.
        FEED_REQUESTS_TALLY.add(feed, fmt, "304" if fresh else "200")
        if fresh:
            await _send(send, scope, 304, variant.not_modified_headers, b"")
        elif wants_page and variant.page_ok_headers is not None:
            await _send(send, scope, 200, variant.page_ok_headers, variant.body)
        else:
            await _send(send, scope, 200, variant.ok_headers, variant.body)

    async def _page(self, scope: Scope, send: Send) -> None:
        """A public page (home, a category, an article), answered here rather than by a
        FastAPI route (decision 21): a 304 from memory when If-None-Match names the page's
        ETag at the site's current generation; the page itself from memory when this
        process rendered it at that generation; otherwise rendered in a worker thread."""
        path: str = scope["path"]
        template, scope["path_params"] = pages.page_route(path)
        scope["route"] = PAGE_ROUTES[template]
        generation = await self.cache.fresh_site_generation()
        if generation is not None:
            scope[SITE_GENERATION_KEY] = generation
            if_none_match = field_value(scope["headers"], b"if-none-match")
            # "*" matches any page that exists: only the page's loader knows whether this one does.
            if if_none_match is not None and "*" not in {c.strip() for c in if_none_match.split(",")}:
                etag = page_etag(branding().build_id, generation, path, scope["query_string"])
                if etag_matches(if_none_match, etag):
                    await _send(send, scope, 304, self._page_304_headers(etag), b"")
                    return
        await _send_page(send, scope, pages.serve_page)

    def _page_304_headers(self, etag: str) -> list[tuple[bytes, bytes]]:
        # What the page's 200 sends besides its body and Last-Modified (RFC 9110 §15.4.5).
        site = branding()
        if self._page_headers is None or self._page_headers[0] != site.build_id:
            cache = f"public, max-age={get_settings().page_cache_seconds}"
            pairs = {"Cache-Control": cache, **security_headers(site)}
            self._page_headers = (site.build_id, [(k.lower().encode(), v.encode()) for k, v in pairs.items()])
        return [(b"etag", etag.encode()), *self._page_headers[1]]

    def _stop_listening_at_shutdown(self, receive: Receive) -> Receive:
        """``receive`` of the lifespan scope, stopping the listening thread when the server
        says it shuts down (before the application's own shutdown runs)."""

        async def receive_and_stop() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and self.listener is not None:
                await run_in_threadpool(self.listener.stop)
            return message

        return receive_and_stop


def _document_route(scope: str) -> RouteTemplate:
    if scope == CORRECTIONS:
        return CORRECTIONS_FEED_ROUTE
    return CALENDAR_ROUTE if scope == CALENDAR else SITE_FEED_ROUTE if scope == SITE else CATEGORY_FEED_ROUTE


def _answered_here(path: str) -> RouteTemplate | None:
    """The route template of a resource this layer answers (GET and HEAD only): /healthz, a
    public page, a feed or /calendar.ics; None for a path FastAPI routes."""
    if path == "/healthz":
        return HEALTHZ_ROUTE
    if is_page_path(path):
        return PAGE_ROUTES[pages.page_route(path)[0]]
    document = document_for_path(path)
    return None if document is None else _document_route(document[0])


async def head_as_get(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer HEAD for every GET route (RFC 9110 §9.3.2): the GET's status and headers,
    Content-Length included, and no body. FastAPI routes declared with ``get`` would
    otherwise answer 405."""

    async def without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    await app({**scope, "method": "GET"}, receive, without_body)


_HEALTHZ_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(HEALTHZ_BODY)).encode()),
    (b"cache-control", b"no-store"),
]


async def _send(send: Send, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _send_page(send: Send, scope: Scope, render: Callable[[Scope], Response]) -> None:
    """A public page in the request's language: from memory when this process rendered it
    at the site's current generation, else ``render(scope)`` in a worker thread."""
    with request_language(scope):
        response = page_from_memory(scope)
        if response is None:
            response = await run_in_threadpool(render, scope)
    await _send(send, scope, response.status_code, response.raw_headers, bytes(response.body))


async def _send_json(
    send: Send, scope: Scope, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await _send(send, scope, status, headers, body)


async def _send_not_found(send: Send, scope: Scope, detail: str) -> None:
    await _send_json(send, scope, 404, detail)
