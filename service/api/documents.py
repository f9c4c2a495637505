"""The public documents — feeds, /calendar.ics — and /healthz, served as raw ASGI; and
the public pages' 304s, answered from the site's generation kept here.

These are the busiest routes (every feed reader and calendar app polls them), so they
skip FastAPI's routing, dependency injection and the thread pool: the bytes, variants
and header lists are built once per stored version and kept in memory, and a request
is a dictionary look-up and two ``send`` calls.

Freshness: the database holds the truth. The in-memory copies are checked against
``documents_generation`` and the site's generation (one small query) at least every
``BANTIN_FEED_RECHECK_SECONDS`` (0.25 s by default; a request arriving later waits for the
check), so no process serves bytes more than that interval older than the database, and
a restarted process starts empty. On PostgreSQL each process also LISTENs for the
notification a render (or an article write) sends on commit and checks at once, so a
publish reaches readers in milliseconds; the periodic check covers a lost listening
connection. On SQLite (one machine) the check runs every 50 ms at most, a local file read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from typing import NamedTuple

import psycopg
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import get_settings
from service.api import pages
from service.api.generation_pages import page_from_memory
from service.articles.categories import public_category
from service.articles.derived import site_generation_of
from service.db.engine import get_engine, read_scope
from service.feeds.documents import (
    CALENDAR_FORMAT,
    CHANGES_CHANNEL,
    StoredDocument,
    documents_generation,
    load_document,
    public_path,
)
from service.feeds.render import CONTENT_TYPES, FILENAMES
from service.feeds.scopes import CALENDAR, SITE, category_scope, category_slug
from service.feeds.urls import feed_url, hub_url
from service.feeds.variants import CODINGS
from service.i18n import request_language
from service.inputs import is_slug
from service.observability.metrics import FEED_REQUESTS
from service.web.http import (
    SITE_GENERATION_KEY,
    etag_matches,
    field_value,
    is_page_path,
    page_etag,
    security_headers,
    unchanged_since,
)
from service.web.templating import branding

log = logging.getLogger(__name__)
FORMAT_BY_FILENAME = {filename: fmt for fmt, filename in FILENAMES.items()}
CALENDAR_TYPE = "text/calendar; charset=utf-8"
CALENDAR_CACHE_SECONDS = 3600
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
# Distinct Accept-Encoding values remembered with the coding chosen for them.
MAX_REMEMBERED_ACCEPT = 512
SQLITE_RECHECK_SECONDS = 0.05


# ---- content negotiation (RFC 9110 §12.5.3) --------------------------------------------------


def parse_accept_encoding(header: str) -> dict[str, float]:
    """``"gzip;q=0.5, br"`` → ``{"gzip": 0.5, "br": 1.0}``; unparseable weights count as 0.
    Reads an Accept header's media ranges the same way (RFC 9110 §12.5.1 has the same shape)."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.partition(";")
        coding = name.strip().lower()
        if not coding:
            continue
        if coding == "x-gzip":  # RFC 9110 §8.4.1.3: a recipient should treat it as gzip
            coding = "gzip"
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(1.0, max(0.0, float(value.strip())))
                except ValueError:
                    quality = 0.0
        weights[coding] = quality
    return weights


def choose_coding(header: str | None, available: tuple[str, ...] = CODINGS) -> str | None:
    """The content coding to send (None: identity) for an Accept-Encoding header.

    No header: identity. A coding not named is acceptable only through ``*``; identity
    is acceptable unless refused by ``identity;q=0`` or by ``*;q=0`` without naming it.
    Ties go to the first of ``available`` (brotli, then gzip), then identity. When
    nothing is acceptable, identity is sent (RFC 9110 allows it instead of 406).
    """
    if not header:
        return None
    weights = parse_accept_encoding(header)
    star = weights.get("*")
    best: str | None = None
    best_quality = weights.get("identity", star if star is not None else 1.0)
    if "identity" not in weights and star == 0.0:
        best_quality = 0.0
    for coding in available:
        quality = weights.get(coding, star if star is not None else 0.0)
        if quality > 0.0 and quality >= best_quality and (best is None or quality > best_quality):
            best, best_quality = coding, quality
    return best


# ---- what one stored version of one document sends ------------------------------------------


@dataclass(frozen=True)
class Variant:
    body: bytes
    etag: bytes
    ok_headers: list[tuple[bytes, bytes]]
    not_modified_headers: list[tuple[bytes, bytes]]
    # RSS and Atom for a browser: the same headers but Content-Type (see PAGE_TYPE).
    page_ok_headers: list[tuple[bytes, bytes]] | None = None


@dataclass(frozen=True)
class Entry:
    variants: dict[str | None, Variant]
    last_modified: float  # seconds since the epoch, whole


# A browser opening an RSS or Atom feed asks for text/html; Chromium shows the registered
# feed types as plain text and never applies the feed's stylesheet, so it is sent the very
# same bytes, under the same ETag, as generic XML, which it renders through feed.xsl
# (decision 33). Feed readers, which do not ask for HTML, get the registered type.
PAGE_TYPE = b"application/xml; charset=utf-8"
PAGE_FORMATS = ("rss", "atom")


def build_entry(
    path: str, content_type: str, cache_seconds: int, links: str | None, doc: StoredDocument, *, page: bool = False
) -> Entry:
    """Header lists for each variant of ``doc``, made once per stored version; ``page``: also
    those a browser gets (PAGE_TYPE), and ``Vary: Accept``."""
    common = [
        (b"last-modified", format_datetime(doc.last_modified, usegmt=True).encode()),
        (b"cache-control", f"public, max-age={cache_seconds}".encode()),
        (b"vary", b"Accept-Encoding, Accept" if page else b"Accept-Encoding"),
    ]
    if links is not None:
        common.append((b"link", links.encode()))
    if path == "/calendar.ics":
        common.append((b"content-disposition", b'inline; filename="bantin.ics"'))
    variants = {}
    for coding, (body, etag) in doc.variants().items():
        validators = [(b"etag", etag.encode()), *common]
        ok = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *validators]
        if coding is not None:
            ok.append((b"content-encoding", coding.encode()))
        as_page = [(b"content-type", PAGE_TYPE), *ok[1:]] if page else None
        variants[coding] = Variant(body, etag.encode(), ok, validators, as_page)
    return Entry(variants, doc.last_modified.replace(microsecond=0).timestamp())


def document_for_path(path: str) -> tuple[str, str] | None:
    """``/feeds/atom.xml`` → (scope, format); None for a path that is not a document."""
    if path == "/calendar.ics":
        return CALENDAR, CALENDAR_FORMAT
    if not path.startswith("/feeds/"):
        return None
    parts = path[len("/feeds/") :].split("/")
    if len(parts) == 1:
        scope, filename = SITE, parts[0]
    elif len(parts) == 3 and parts[0] == "categories" and is_slug(parts[1]):  # what else would reach a query
        scope, filename = category_scope(parts[1]), parts[2]
    else:
        return None
    fmt = FORMAT_BY_FILENAME.get(filename)
    return None if fmt is None else (scope, fmt)


def load_entry(scope: str, fmt: str) -> Entry | None:
    """Read one document from the database and build what it sends (runs in a thread)."""
    settings = get_settings()
    slug = category_slug(scope)
    # Lock-free (decision 0027): the API reads documents while workers write them.
    with read_scope() as session:
        # A category's feeds only while it is public (service/articles/categories.py).
        if slug is not None and public_category(session, slug=slug) is None:
            return None
        doc = load_document(session, scope, fmt)
    if doc is None:
        return None
    if scope == CALENDAR:
        return build_entry(public_path(scope, fmt), CALENDAR_TYPE, CALENDAR_CACHE_SECONDS, None, doc)
    links = f'<{feed_url(settings.base_url, scope, fmt)}>; rel="self", <{hub_url(settings.base_url)}>; rel="hub"'
    path = public_path(scope, fmt)
    return build_entry(path, CONTENT_TYPES[fmt], settings.feed_cache_seconds, links, doc, page=fmt in PAGE_FORMATS)


class Generations(NamedTuple):
    """What an API process compares with the database: the stored documents' generation
    (sum of their versions) and the site's (moved by every article write)."""

    documents: int
    site: int


def read_generation() -> Generations:
    """Both generations: when one moves, something changed.

    Two statements on an autocommit connection, so the recheck (every 50 ms per API
    process on SQLite) never waits for a writer (decision 0027). Each number only grows,
    so a change committed between the two statements is seen by the next check.
    """
    with read_scope() as session:
        return Generations(documents_generation(session), site_generation_of(session))


class DocumentCache:
    """What this process served, valid while the stored generation is unchanged.

    ``get`` checks the generation first when the last check is older than
    ``recheck_seconds``; concurrent requests share one check. A changed generation
    replaces the whole map: entries being loaded during the change land in the old map
    and are dropped with it.
    """

    def __init__(
        self,
        recheck_seconds: float,
        loader: Callable[[str, str], Entry | None] = load_entry,
        generation: Callable[[], Generations] = read_generation,
    ) -> None:
        self.recheck_seconds = recheck_seconds
        self._loader = loader
        self._generation_reader = generation
        self._entries: dict[tuple[str, str], Entry] = {}
        self._generation: int | None = None
        # The site's generation as last read; public pages name it in their ETags.
        self.site_generation: int | None = None
        self._checked_at = float("-inf")
        self._check: asyncio.Future[None] | None = None
        # Bumped (from the listening thread) when the database announces a change; a check
        # that started before the announcement does not count as having seen it.
        self.notified = 0
        self._seen_notified = 0

    def changed(self) -> None:
        """The database says a document changed: the next request checks first. Thread-safe."""
        self.notified += 1

    async def fresh_site_generation(self) -> int | None:
        """The site's generation, rechecked against the database when due (None: unknown)."""
        await self._recheck_when_due()
        return self.site_generation

    async def _recheck_when_due(self) -> None:
        if self.notified != self._seen_notified or time.monotonic() - self._checked_at >= self.recheck_seconds:
            await self._recheck()

    async def get(self, scope: str, fmt: str) -> Entry | None:
        """The entry of one document, rechecked against the database when due; None when it is not stored."""
        await self._recheck_when_due()
        entries = self._entries
        entry = entries.get((scope, fmt))
        if entry is None:
            entry = await run_in_threadpool(self._loader, scope, fmt)
            if entry is not None:
                entries[(scope, fmt)] = entry
        return entry

    async def _recheck(self) -> None:
        if self._check is not None:
            await asyncio.shield(self._check)
            return
        self._check = asyncio.get_running_loop().create_future()
        started, notified = time.monotonic(), self.notified
        try:
            generation = await run_in_threadpool(self._generation_reader)
        except BaseException:
            # Unverifiable copies are not served: the next request reads the database.
            self._entries, self._generation, self.site_generation = {}, None, None
            raise
        else:
            if generation.documents != self._generation:
                self._entries = {}
                self._generation = generation.documents
            elif generation.site != self.site_generation:
                # An article write may have made a category public or not without changing
                # a document (an old article withdrawn): its feeds are looked up again.
                self._entries = {key: entry for key, entry in self._entries.items() if category_slug(key[0]) is None}
            self.site_generation = generation.site
            self._checked_at, self._seen_notified = started, notified
        finally:
            check, self._check = self._check, None
            check.set_result(None)


# ---- the ASGI layer ----------------------------------------------------------------------------


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
        self._codings: dict[str, str | None] = {}
        self._pages: dict[str, bool] = {}
        self._page_headers: tuple[str, list[tuple[bytes, bytes]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._listen:
            self._listen = False
            start_listening(self.cache, get_settings().effective_database_url)
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
        variant = entry.variants.get(self._coding(field_value(headers, b"accept-encoding"))) or entry.variants[None]
        if_none_match = field_value(headers, b"if-none-match")
        accept = field_value(headers, b"accept")
        wants_page = accept is not None and self._wants_page(accept)
        if if_none_match is not None:
            fresh = etag_matches(if_none_match, variant.etag.decode())
        else:
            fresh = unchanged_since(field_value(headers, b"if-modified-since"), entry.last_modified)
        # Only documents that exist are counted: made-up slugs add no label values.
        FEED_REQUESTS.labels(feed, fmt, "304" if fresh else "200").inc()
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

    def _wants_page(self, accept: str) -> bool:
        """Whether an Accept header asks for HTML (q > 0): a browser opening the address."""
        try:
            return self._pages[accept]
        except KeyError:
            wanted = parse_accept_encoding(accept).get("text/html", 0.0) > 0.0
            if len(self._pages) < MAX_REMEMBERED_ACCEPT:
                self._pages[accept] = wanted
            return wanted

    def _coding(self, accept: str | None) -> str | None:
        if accept is None:
            return None
        try:
            return self._codings[accept]
        except KeyError:
            coding = choose_coding(accept)
            if len(self._codings) < MAX_REMEMBERED_ACCEPT:
                self._codings[accept] = coding
            return coding


def _document_route(scope: str) -> RouteTemplate:
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


def start_listening(cache: DocumentCache, database_url: str) -> threading.Thread:
    """LISTEN for document changes on a connection of its own, in a daemon thread that
    reconnects after a second when the connection is lost (the periodic check covers
    the gap)."""
    url = make_url(database_url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)

    def listen() -> None:
        while True:
            try:
                with psycopg.connect(conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANGES_CHANNEL}")
                    cache.changed()  # changes made while not listening
                    for _ in connection.notifies():
                        cache.changed()
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect; the periodic check holds meanwhile
                log.warning("listening for feed changes: %s; again in 1 s", exc)
            time.sleep(1)

    thread = threading.Thread(target=listen, name="bantin-document-changes", daemon=True)
    thread.start()
    return thread


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
