"""HTTP rules every page shares: validators (ETag, Last-Modified), conditional requests,
security headers. Framework-free: the routes turn these into responses."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
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


def last_modified_value(changed_at: datetime, now: datetime) -> datetime:
    """The instant to announce as Last-Modified: ``changed_at`` to the second, once settled."""
    second = changed_at.replace(microsecond=0)
    if now < second + SETTLE:
        return second - timedelta(seconds=1)
    return second


def http_date(instant: datetime) -> str:
    """An HTTP date, ``Sun, 06 Nov 1994 08:49:37 GMT`` (RFC 9110 §5.6.7)."""
    return format_datetime(instant, usegmt=True)


def _etag_matches(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 §13.1.2).
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates


def not_modified(headers: Mapping[str, str], etag: str, changed_at: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etag)
    since_header = headers.get("if-modified-since")
    if not since_header:
        return False
    try:
        since = parsedate_to_datetime(since_header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return changed_at.replace(microsecond=0) <= since


def security_headers(site: Branding) -> dict[str, str]:
    """CSP and friends for HTML pages: no script at all, our stylesheet and one hashed inline style.

    Images may come from anywhere (covers and body images live on other hosts); the
    JSON-LD block is a data block, never executed, so ``script-src`` stays closed.
    """
    policy = [
        "default-src 'none'",
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


class RenderCache:
    """Recently rendered bodies by strong ETag: the same ETag means the same bytes, so a
    popular page is rendered once per change, not once per reader. Bounded in entries and
    in the size of one body (long articles are simply rendered each time)."""

    def __init__(self, entries: int = 512, max_body_chars: int = 256 * 1024) -> None:
        self._bodies: OrderedDict[str, str] = OrderedDict()
        self._entries = entries
        self._max_body_chars = max_body_chars
        self._lock = threading.Lock()

    def get_or_render(self, etag: str, render: Callable[[], str]) -> str:
        """The body stored for ``etag``, else ``render()``'s, stored when it is small enough."""
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
                return body
        body = render()
        if len(body) <= self._max_body_chars:
            with self._lock:
                self._bodies[etag] = body
                while len(self._bodies) > self._entries:
                    self._bodies.popitem(last=False)
        return body
