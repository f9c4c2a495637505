"""HTTP rules every page shares: validators (ETag, Last-Modified), conditional requests,
security headers. Framework-free: the routes turn these into responses."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from service.web.templating import Branding

# A Last-Modified value is second-granular (RFC 9110 §5.6.7). A change committed within
# this long after the second we announce could share that second; until the second has
# settled we announce the one before, so an If-Modified-Since client never gets a 304 for
# bytes it has not seen (a missed 304 costs one 200; a wrong one hides a change).
SETTLE = timedelta(seconds=2)


def strong_etag(*parts: object) -> str:
    """A strong ETag from everything a response is a pure function of (reprs of frozen values)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return f'"{digest.hexdigest()}"'


# Where the ASGI layer (service/api/documents.py) leaves the site's generation for the page routes.
SITE_GENERATION_KEY = "bantin.site_generation"
# Search (/tim-kiem, "tìm kiếm", and /search, the same page) and the page on following the
# desk ("theo dõi"): public addresses, part of the contract (ARCHITECTURE.md, "Rules that
# hold it together").
SEARCH_PATHS = ("/tim-kiem", "/search")
FOLLOW_PATH = "/theo-doi"
# Corrections ("cải chính", Luật Báo chí 2016, Art. 42): the public list (decision 0043).
CORRECTIONS_PATH = "/cai-chinh"


def is_page_path(path: str) -> bool:
    """True for the paths of public pages validated by the site's generation: ``/``, the
    search, follow and corrections pages, ``/categories/<slug>`` and ``/articles/<id>/<slug>`` (one path
    segment each)."""
    if path == "/" or path in SEARCH_PATHS or path in (FOLLOW_PATH, CORRECTIONS_PATH):
        return True
    parts = path.split("/")
    if len(parts) == 3:
        return parts[1] == "categories" and parts[2] != ""
    return len(parts) == 4 and parts[1] == "articles" and parts[2] != "" and parts[3] != ""


def page_etag(build_id: str, generation: int, path: str, query_string: bytes) -> str:
    """A public page's strong ETag: the build, the site's generation, the path and query.

    The generation moves with every article write (service/articles/derived.py), so one
    ETag names one rendering of the page's data; the same value is computed in memory to
    answer a 304 and by the route that renders the page.
    """
    return strong_etag("page", build_id, generation, path, query_string)


def last_modified_value(changed_at: datetime, now: datetime) -> datetime:
    """The instant to announce as Last-Modified: ``changed_at`` to the second, once settled."""
    second = changed_at.replace(microsecond=0)
    if now < second + SETTLE:
        return second - timedelta(seconds=1)
    return second


def http_date(instant: datetime) -> str:
    """An HTTP date, ``Sun, 06 Nov 1994 08:49:37 GMT`` (RFC 9110 §5.6.7)."""
    return format_datetime(instant, usegmt=True)


# A request's header fields as ASGI hands them over (``scope["headers"]``, Starlette's
# ``Headers.raw``): lower-case names, values as received, in order, repeated lines included.
RawHeaders = Iterable[tuple[bytes, bytes]]


def field_value(headers: RawHeaders, name: bytes) -> str | None:
    """The value of the field ``name`` (lower case), None when the request has no such line.

    Several lines of one field are one value: joined in order with ", " (RFC 9110 §5.3), so
    ``If-None-Match: "a"`` and ``If-None-Match: "b"`` mean ``"a", "b"`` wherever they are
    read (feeds took the last line, pages the first). A singleton field sent twice
    (``If-Modified-Since``) becomes a value that is not one date, which its reader ignores
    (RFC 9110 §13.1.3). Decoded as Latin-1, the bytes HTTP/1.1 allows in a value.
    """
    values = [value for key, value in headers if key == name]
    return b", ".join(values).decode("latin-1") if values else None


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-None-Match value names ``etag``, or is ``*``: the weak comparison (RFC 9110 §13.1.2)."""
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates


def not_modified(headers: RawHeaders, etag: str, changed_at: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    headers = list(headers)
    if_none_match = field_value(headers, b"if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    return unchanged_since(field_value(headers, b"if-modified-since"), changed_at.replace(microsecond=0).timestamp())


def unchanged_since(header: str | None, last_modified: float) -> bool:
    """Whether an If-Modified-Since value (None: absent) is at or after ``last_modified`` (seconds
    since the epoch, whole): a date without a zone, or not one date, is ignored (RFC 9110 §13.1.3)."""
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified <= since.timestamp()


def security_headers(site: Branding) -> dict[str, str]:
    """CSP and friends for HTML pages: our own script file only, our stylesheet and one hashed inline style.

    Images may come from anywhere (covers and body images live on other hosts); the
    JSON-LD blocks are data blocks, never executed. The one script is ``static/site.js``
    (the menu's button on phones, the copy buttons, browser notifications): no inline script,
    no other origin; it may ``fetch`` only this site (``/push/…``, decision 0041) and register
    only this site's service worker (``/sw.js``).
    """
    policy = [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        f"style-src 'self' '{site.inline_css_hash}'",
        "img-src * data:",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
    if site.base_url.startswith("https://"):
        policy.append("upgrade-insecure-requests")
    return {
        "Content-Security-Policy": "; ".join(policy),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "SAMEORIGIN",
    }


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page as rendered once: its body and the instant its Last-Modified is built from
    (None where the caller keeps that instant itself)."""

    body: str
    changed_at: datetime | None = None


class RenderCache:
    """Recently rendered bodies by strong ETag: the same ETag means the same bytes, so a
    popular page is rendered once per change, not once per reader. Bounded in entries and
    in the size of one body (long articles are simply rendered each time)."""

    def __init__(self, entries: int = 512, max_body_chars: int = 256 * 1024) -> None:
        self._bodies: OrderedDict[str, Rendered] = OrderedDict()
        self._entries = entries
        self._max_body_chars = max_body_chars
        self._lock = threading.Lock()

    def get(self, etag: str) -> Rendered | None:
        """What was stored for ``etag``, if it is still held."""
        with self._lock:
            found = self._bodies.get(etag)
            if found is not None:
                self._bodies.move_to_end(etag)
            return found

    def put(self, etag: str, rendered: Rendered) -> None:
        """Keep ``rendered`` under ``etag`` when its body is small enough; the oldest entries make room."""
        if len(rendered.body) > self._max_body_chars:
            return
        with self._lock:
            self._bodies[etag] = rendered
            while len(self._bodies) > self._entries:
                self._bodies.popitem(last=False)

    def get_or_render(self, etag: str, render: Callable[[], str], changed_at: datetime | None = None) -> str:
        """The body stored for ``etag``, else ``render()``'s, stored when it is small enough."""
        found = self.get(etag)
        if found is not None:
            return found.body
        body = render()
        self.put(etag, Rendered(body, changed_at))
        return body
