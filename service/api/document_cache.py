"""The public documents as an API process keeps them: per stored version of a feed or of
/calendar.ics, its bytes, variants and header lists (:class:`Entry`), held while the
database's generations are unchanged (:class:`DocumentCache`), and the thread that LISTENs
for the notification a render's commit sends (:class:`ChangeListener`).

Freshness: the database holds the truth. The in-memory copies are checked against
``documents_generation`` and the site's generation (one small query) at least every
``BANTIN_FEED_RECHECK_SECONDS`` (0.25 s by default; a request arriving later waits for the
check), so no process serves bytes more than that interval older than the database, and
a restarted process starts empty. On PostgreSQL each process also LISTENs for the
notification a render (or an article write) sends on commit and checks at once, so a
publish reaches readers in milliseconds; the periodic check covers a lost listening
connection. On SQLite (one machine) the check runs every 50 ms at most, a local file read.
The ASGI layer that answers from these is ``service/api/documents.py``.
"""

from __future__ import annotations

import asyncio
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

from config.settings import get_settings
from service.articles.categories import public_category
from service.articles.derived import site_generation_of
from service.db.engine import read_scope
from service.feeds.documents import (
    CHANGES_CHANNEL,
    StoredDocument,
    documents_generation,
    load_document,
    public_path,
)
from service.feeds.render import CONTENT_TYPES
from service.feeds.scopes import CALENDAR, category_slug
from service.feeds.urls import feed_url, hub_url

log = logging.getLogger(__name__)
CALENDAR_TYPE = "text/calendar; charset=utf-8"
CALENDAR_CACHE_SECONDS = 3600
# The recheck interval on SQLite, whatever BANTIN_FEED_RECHECK_SECONDS says: no process
# there hears of a change, and the check is a read of a local file.
SQLITE_RECHECK_SECONDS = 0.05
# How often the listening thread looks up from its connection to see whether it should stop:
# the longest a process's shutdown waits for it. A notification wakes it at once.
LISTEN_WAKE_SECONDS = 0.5
# After a lost connection: the next attempt (the periodic check holds meanwhile).
RECONNECT_SECONDS = 1.0


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


class ChangeListener:
    """LISTEN for document changes on a connection of its own, in a daemon thread that
    reconnects after :data:`RECONNECT_SECONDS` when the connection is lost (the periodic
    check covers the gap), until :meth:`stop`.

    Stopped at the application's shutdown (``PublicDocuments``), so the thread neither
    outlives its database (a dropped test database would otherwise have it log a lost
    connection every second) nor writes to a log that is already closed.
    """

    def __init__(self, cache: DocumentCache, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._cache = cache
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="bantin-document-changes", daemon=True)

    def start(self) -> None:
        """Begin listening (in the thread); the cache is told of a change once connected."""
        self._thread.start()

    def stop(self, wait_seconds: float = 5.0) -> None:
        """End the thread: it closes its connection within :data:`LISTEN_WAKE_SECONDS` (or as
        soon as a connection attempt returns), logging nothing more; waited for at most
        ``wait_seconds``."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(wait_seconds)

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANGES_CHANNEL}")
                    self._cache.changed()  # changes made while not listening
                    while not self._stopping.is_set():
                        # Notifications that arrive between two calls wait in the connection.
                        for _ in connection.notifies(timeout=LISTEN_WAKE_SECONDS):
                            self._cache.changed()
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect; the periodic check holds meanwhile
                if self._stopping.is_set():
                    return
                log.warning("listening for feed changes: %s; again in %g s", exc, RECONNECT_SECONDS)
            self._stopping.wait(RECONNECT_SECONDS)


def start_listening(cache: DocumentCache, database_url: str) -> ChangeListener:
    """A :class:`ChangeListener` for ``cache``, started."""
    listener = ChangeListener(cache, database_url)
    listener.start()
    return listener
