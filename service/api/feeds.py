"""Public feed endpoints: stored bytes, strong ETags, 304s (DESIGN.md decision 5)."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import APIRouter, HTTPException, Request, Response

from config.settings import get_settings
from service.db.engine import session_scope
from service.feeds.publish import StoredFeed, stored_feed
from service.feeds.render import CONTENT_TYPES, FILENAMES
from service.feeds.scopes import SITE, category_scope
from service.feeds.urls import feed_url, hub_url
from service.observability.metrics import FEED_REQUESTS

router = APIRouter(tags=["feeds"])
FORMAT_BY_FILENAME = {filename: fmt for fmt, filename in FILENAMES.items()}


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [c.strip() for c in header.split(",")]
    # Weak comparison is what RFC 9110 asks for If-None-Match.
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def feed_response(request: Request, scope: str, filename: str) -> Response:
    fmt = FORMAT_BY_FILENAME.get(filename)
    if fmt is None:
        raise HTTPException(404, f"no feed named {filename!r}; try rss.xml, atom.xml or feed.json")
    with session_scope() as session:
        feed: StoredFeed | None = stored_feed(session, scope, fmt)
    if feed is None:
        raise HTTPException(404, "no such feed")
    settings = get_settings()
    self_url = feed_url(settings.base_url, scope, fmt)
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": f"public, max-age={settings.feed_cache_seconds}",
        "Link": f'<{self_url}>; rel="self", <{hub_url(settings.base_url)}>; rel="hub"',
        "Vary": "Accept-Encoding",
    }
    if_none_match = request.headers.get("if-none-match")
    since = request.headers.get("if-modified-since")
    if if_none_match is not None:
        not_modified = _etag_matches(if_none_match, feed.etag)
    else:
        not_modified = since is not None and _not_modified_since(since, feed.last_modified)
    # Only feeds that exist are counted, so a client inventing slugs cannot add labels.
    FEED_REQUESTS.labels(scope, fmt, "304" if not_modified else "200").inc()
    if not_modified:
        return Response(status_code=304, headers=headers)
    return Response(content=feed.body, media_type=CONTENT_TYPES[fmt], headers=headers)


@router.api_route("/feeds/{filename}", methods=["GET", "HEAD"])
def site_feed(request: Request, filename: str) -> Response:
    return feed_response(request, SITE, filename)


@router.api_route("/feeds/categories/{slug}/{filename}", methods=["GET", "HEAD"])
def category_feed(request: Request, slug: str, filename: str) -> Response:
    return feed_response(request, category_scope(slug), filename)
