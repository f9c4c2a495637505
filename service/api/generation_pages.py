"""Public pages validated by the site's generation: the memory of rendered pages, their
ETags and their 304s (decision 21).

A page is a pure function of the build, the site's generation, its path and query
(``service.web.http.page_etag``): rendered once per generation and process, then served
from memory. ``service/api/pages.py`` (home, categories, articles) and
``service/api/search_pages.py`` (search, /theo-doi) build their pages through
:func:`generation_page`; ``service/api/documents.py`` asks :func:`page_from_memory` first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.types import Scope

from config.settings import get_settings
from service.articles.derived import site_generation_of
from service.db.engine import read_scope
from service.db.types import utcnow
from service.site.navigation import Navigation, navigation_at
from service.web.http import (
    SEARCH_PATHS,
    SITE_GENERATION_KEY,
    RenderCache,
    Rendered,
    http_date,
    last_modified_value,
    not_modified,
    page_etag,
    security_headers,
)
from service.web.templating import Branding, branding

HTML = "text/html; charset=utf-8"
RENDERED = RenderCache()


def page_headers(site: Branding, etag: str, changed: datetime, html: bool) -> dict[str, str]:
    """The validators and caching of a public page (and, for HTML, its security headers)."""
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified_value(changed, utcnow())),
        "Cache-Control": f"public, max-age={get_settings().page_cache_seconds}",
    }
    if html:
        headers.update(security_headers(site))
    return headers


# What a page's loader reads: a response to send as it is (a redirect), or the page's
# renderer and the instant of the last change it shows.
Loaded = Response | tuple[Callable[[], str], datetime | None]
# Search pages are kept apart: every query is a page of its own, and they must not push
# the home, category and article pages out of memory.
SEARCHES = RenderCache(entries=256)


def _page_response(headers: Headers, site: Branding, etag: str, rendered: Rendered) -> Response:
    changed = rendered.changed_at or site.loaded_at
    response_headers = page_headers(site, etag, changed, html=True)
    if not_modified(headers.raw, etag, changed):
        return Response(status_code=304, headers=response_headers)
    return Response(rendered.body, media_type=HTML, headers=response_headers)


def _memory(path: str) -> RenderCache:
    return SEARCHES if path in SEARCH_PATHS else RENDERED


def generation_page(request: Request, load: Callable[[Session, Navigation], Loaded]) -> Response:
    """A public page validated by the site's generation (service/articles/derived.py).

    The ETag names the build, the generation, the path and the query; a page rendered
    at this generation is served from memory without touching the database (usually
    before this runs: :func:`page_from_memory`), and a 304 for a matching If-None-Match
    is answered by the ASGI layer. ``load`` gets the header's navigation at that
    generation (read once per generation and process). NotFound and Withdrawn propagate,
    uncached; so does a response ``load`` returns (a redirect, a refusal).
    """
    site = branding()
    generation = request.scope.get(SITE_GENERATION_KEY)
    if generation is None:  # the generation could not be read in the ASGI layer: read it here
        with read_scope() as session:
            generation = site_generation_of(session)
    etag = page_etag(site.build_id, generation, request.scope["path"], request.scope["query_string"])
    memory = _memory(request.scope["path"])
    rendered = memory.get(etag)
    if rendered is None:
        # One statement (an empty listing reads a little more): no transaction round trips.
        with read_scope() as session:
            loaded = load(session, navigation_at(session, generation))
        if isinstance(loaded, Response):
            return loaded
        build, changed_at = loaded
        rendered = Rendered(build(), max(changed_at or site.loaded_at, site.loaded_at))
        memory.put(etag, rendered)
    return _page_response(request.headers, site, etag, rendered)


def page_from_memory(scope: Scope) -> Response | None:
    """The page's response when this process rendered it at the site's current generation
    (``scope[SITE_GENERATION_KEY]``), else None: no database and no thread, so it can run
    on the event loop. Call it within the request's language (the body is that language's)."""
    generation = scope.get(SITE_GENERATION_KEY)
    if generation is None:
        return None
    site = branding()
    etag = page_etag(site.build_id, generation, scope["path"], scope["query_string"])
    rendered = _memory(scope["path"]).get(etag)
    return None if rendered is None else _page_response(Headers(scope=scope), site, etag, rendered)
