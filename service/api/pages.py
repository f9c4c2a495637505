"""Public pages where readers land: home, categories, articles, sitemaps, robots.txt, /static.

Thin: the data comes from ``service.site``, the HTML from ``service.web`` templates. Home,
category and article pages (and search and /theo-doi, ``service/api/search_pages.py``)
are not FastAPI routes: ``service/api/documents.py`` answers them (decision 21) through
``generation_pages.page_from_memory`` and :func:`serve_page`. They are validated by the
site's generation (moved by every article write): a page rendered once is served from
memory while the generation holds (``service/api/generation_pages.py``). Sitemaps and
robots.txt are FastAPI routes validated by an ETag of their bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.types import Scope

from config.settings import get_settings
from service.api import search_pages
from service.api.generation_pages import HTML, RENDERED, Loaded, generation_page, page_headers
from service.db.engine import read_scope
from service.db.types import utcnow
from service.errors import NotFound
from service.i18n import N_, gettext, language
from service.site import sitemaps
from service.site.corrections import corrections_head, corrections_page
from service.site.meta import FEED_FORMATS, article_head, error_head, listing_head
from service.site.navigation import Navigation, current_navigation
from service.site.pages import (
    Withdrawn,
    article_view,
    content_changed_at,
    latest,
    parse_cursor,
    parse_id,
    related_articles,
)
from service.web.cards import listing_cards
from service.web.http import (
    CORRECTIONS_PATH,
    FOLLOW_PATH,
    SEARCH_PATHS,
    SITE_GENERATION_KEY,
    is_page_path,
    not_modified,
    security_headers,
    strong_etag,
)
from service.web.templating import Branding, StaticFile, branding, render, static_files

router = APIRouter(tags=["pages"])
GET_HEAD = ["GET", "HEAD"]
XML = "application/xml; charset=utf-8"
# How many "related articles" (same categories) an article page ends with.
RELATED_ARTICLES = 4


def _cached(
    request: Request,
    *,
    key: tuple[object, ...],
    changed_at: datetime | None,
    media_type: str,
    build: Callable[[], str],
    extra: dict[str, str] | None = None,
) -> Response:
    """A response validated by an ETag of its data: 304 on a match, else ``build()`` rendered."""
    site = branding()
    # One URL per language (?lang=en), one ETag and one stored body per language.
    etag = strong_etag(site.build_id, language(), *key)
    changed = max(changed_at or site.loaded_at, site.loaded_at)
    headers = {**page_headers(site, etag, changed, media_type == HTML), **(extra or {})}
    if not_modified(request.headers.raw, etag, changed):
        return Response(status_code=304, headers=headers)
    return Response(RENDERED.get_or_render(etag, build), media_type=media_type, headers=headers)


def _error_page(status: int, heading: str, message: str, cache_control: str, reason: str | None = None) -> Response:
    site = branding()
    heading, message = gettext(heading), gettext(message)
    body = render(
        "error.html",
        head=error_head(site, heading),
        navigation=current_navigation(),
        status=status,
        heading=heading,
        message=message,
        reason=reason,
    )
    headers = {"Cache-Control": cache_control, **security_headers(site)}
    return Response(body, status_code=status, media_type=HTML, headers=headers)


def not_found_page() -> Response:
    """The 404 page."""
    # Not cached: a scheduled article answers 404 until the very second it is published.
    return _error_page(404, N_("Không tìm thấy trang"), N_("Trang bạn tìm không có hoặc chưa được đăng."), "no-cache")


def gone_page(reason: str | None = None) -> Response:
    """The 410 page of a withdrawn article, with the desk's ``reason`` when it gave one
    (decision 0043), cached for ``page_cache_seconds``."""
    return _error_page(
        410,
        N_("Bài viết đã được gỡ"),
        N_("Bài viết này đã được gỡ khỏi trang và không còn đọc được nữa."),
        f"public, max-age={get_settings().page_cache_seconds}",
        reason,
    )


def _listing(request: Request, path: str, category_slug: str | None) -> Response:
    def load(session: Session, navigation: Navigation) -> Loaded:
        before = parse_cursor(request.query_params.get("before"))
        listing, changed_at = latest(
            session, limit=get_settings().page_size, category_slug=category_slug, before=before
        )
        site = branding()
        head = listing_head(listing, site, path)
        return (
            lambda: render(
                "listing.html",
                head=head,
                navigation=navigation,
                listing=listing,
                cards=listing_cards(listing),
                path=path,
                current_category=category_slug,
            ),
            changed_at,
        )

    try:
        return generation_page(request, load)
    except NotFound:
        return not_found_page()


# ---- home, categories, articles --------------------------------------------------------------
# Not FastAPI routes: the ASGI layer (service/api/documents.py) answers these paths
# itself, skipping routing, dependency injection and the middleware below it, because
# they are what readers and crawlers hit most (decision 21). Only GET and HEAD.

HOME_ROUTE = "/"
CATEGORY_ROUTE = "/categories/{slug}"
ARTICLE_ROUTE = "/articles/{article_id}/{slug}"
# Search, /theo-doi and /cai-chinh: paths that are their own route templates (no parameter).
FIXED_ROUTES = (*SEARCH_PATHS, FOLLOW_PATH, CORRECTIONS_PATH)


def page_route(path: str) -> tuple[str, dict[str, str]]:
    """The route template and path parameters of a page path (:func:`service.web.http.is_page_path`):
    ``/articles/7/le-ky-niem`` → (``/articles/{article_id}/{slug}``, {"article_id": "7", "slug": "le-ky-niem"}).
    Metrics and access logs label requests by the template (slugs would be unbounded label values)."""
    if path == "/" or path in FIXED_ROUTES:
        return path, {}
    parts = path.split("/")
    if parts[1] == "categories":
        return CATEGORY_ROUTE, {"slug": parts[2]}
    return ARTICLE_ROUTE, {"article_id": parts[2], "slug": parts[3]}


def serve_page(scope: Scope) -> Response:
    """The response to a GET of a page path (:func:`service.web.http.is_page_path`).

    Blocking (it may read the database): run it in a worker thread, within the request's
    language (:func:`service.i18n.request_language`). ``scope["path"]`` is already
    percent-decoded by the server, as FastAPI's path parameters were.
    """
    request = Request(scope)
    template, params = page_route(scope["path"])
    if template == HOME_ROUTE:
        return home(request)
    if template in SEARCH_PATHS:
        return search_pages.search_page(request)
    if template == FOLLOW_PATH:
        return search_pages.follow_page(request)
    if template == CORRECTIONS_PATH:
        return corrections(request)
    if template == CATEGORY_ROUTE:
        return category_page(request, params["slug"])
    return article_page(request, params["article_id"], params["slug"])


def misaddressed_page(scope: Scope) -> Response:
    """The response to a GET under ``/articles/`` or ``/categories/`` that is not a page's
    address (:func:`service.web.http.is_page_path` is false).

    A page's address with a trailing slash moves (301) to the address without it, and an
    article's id without its slug to the article's current address (or its 404 or 410
    page); anything else is the 404 page, HTML like every other public answer. The query
    (``?lang=en``) goes along. Blocking (it may read the database), like :func:`serve_page`.
    """
    path: str = scope["path"]
    trimmed = path.rstrip("/")
    if trimmed != path and is_page_path(trimmed):
        return _moved(branding(), trimmed, scope["query_string"])
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "articles" and parts[2]:
        return article_page(Request(scope), parts[2], "")
    return not_found_page()


def _moved(site: Branding, path: str, query_string: bytes) -> Response:
    """301 to ``path`` on the site, keeping the request's query (the reader's language among it)."""
    query = query_string.decode("latin-1")
    return RedirectResponse(f"{site.base_url}{path}{'?' + query if query else ''}", status_code=301)


def home(request: Request) -> Response:
    """The home page: the latest published articles, a page at a time; 404 for a page that does not exist."""
    return _listing(request, "/", None)


def category_page(request: Request, slug: str) -> Response:
    """A category's latest published articles; 404 for an unknown category or a page that does not exist."""
    return _listing(request, f"/categories/{slug}", slug)


def corrections(request: Request) -> Response:
    """``/cai-chinh``: every correction, newest first, a page at a time (decision 0043); 404
    for a page that does not exist."""

    def load(session: Session, navigation: Navigation) -> Loaded:
        before = parse_cursor(request.query_params.get("before"))
        page, changed_at = corrections_page(session, limit=get_settings().page_size, before=before)
        head = corrections_head(branding(), page)
        return (
            lambda: render("corrections.html", head=head, navigation=navigation, page=page, path=CORRECTIONS_PATH),
            changed_at,
        )

    try:
        return generation_page(request, load)
    except NotFound:
        return not_found_page()


def article_page(request: Request, article_id: str, slug: str) -> Response:
    """An article's page; 301 to the current slug, 410 when withdrawn, 404 when unknown or not yet published."""

    def load(session: Session, navigation: Navigation) -> Loaded:
        article = article_view(session, parse_id(article_id), utcnow())
        site = branding()
        if article.slug != slug:
            # Titles (and so slugs) change; old links keep working.
            return _moved(site, f"/articles/{article.id}/{article.slug}", request.scope["query_string"])
        related = related_articles(session, article, RELATED_ARTICLES, request.scope.get(SITE_GENERATION_KEY))
        return (
            lambda: render(
                "article.html",
                head=article_head(article, site),
                navigation=navigation,
                article=article,
                related=related,
                feed_formats=[(name, label) for name, _, label in FEED_FORMATS],
            ),
            article.updated_at,
        )

    try:
        return generation_page(request, load)
    except Withdrawn as gone:
        return gone_page(gone.reason)
    except NotFound:
        return not_found_page()


# ---- sitemaps and robots.txt --------------------------------------------------------------
# Not pages: rendered on each request (they are fetched rarely), validated by their bytes.


def _xml(request: Request, body: str, changed_at: datetime | None) -> Response:
    return _cached(
        request,
        key=("xml", body),
        changed_at=changed_at,
        media_type=XML,
        build=lambda: body,
        extra={"X-Robots-Tag": "noindex"},
    )


@router.api_route("/sitemap.xml", methods=GET_HEAD, include_in_schema=False)
def sitemap_index(request: Request) -> Response:
    """The sitemap index (sitemaps.org protocol): one entry per sitemap file."""
    settings = get_settings()
    # Autocommit reads, as for pages (decision 0027): the date first, so that a change
    # landing between the two statements gives an older Last-Modified, never a newer one.
    with read_scope() as session:
        changed_at = content_changed_at(session)
        entries = sitemaps.index_entries(session, settings.base_url, settings.sitemap_urls_per_file)
    return _xml(request, render("sitemap_index.xml", entries=entries), changed_at)


@router.api_route("/sitemaps/{name}.xml", methods=GET_HEAD, include_in_schema=False)
def sitemap_file(request: Request, name: str) -> Response:
    """One sitemap: ``pages``, ``news`` (Google News sitemap) or ``articles-N``; 404 for any other name."""
    settings = get_settings()
    try:
        with read_scope() as session:  # as sitemap_index
            changed_at = content_changed_at(session)
            if name == "pages":
                entries = sitemaps.page_entries(session, settings.base_url, settings.sitemap_urls_per_file)
            elif name == "news":
                items = sitemaps.news_items(session, settings.base_url, utcnow())
                return _xml(request, render("sitemap_news.xml", items=items), changed_at)
            elif name.startswith("articles-") and name[9:].isascii() and name[9:].isdigit() and len(name) < 30:
                number = int(name[9:])
                entries = sitemaps.article_entries(session, settings.base_url, settings.sitemap_urls_per_file, number)
            else:
                raise NotFound(f"no sitemap {name!r}")
    except NotFound:
        return Response("no such sitemap\n", status_code=404, media_type="text/plain; charset=utf-8")
    return _xml(request, render("sitemap_urls.xml", entries=entries), changed_at)


@router.api_route("/robots.txt", methods=GET_HEAD, include_in_schema=False)
def robots(request: Request) -> Response:
    """robots.txt (RFC 9309): the API and the unsubscribe links closed to crawlers."""
    body = render("robots.txt")
    return _cached(
        request, key=("robots", body), changed_at=None, media_type="text/plain; charset=utf-8", build=lambda: body
    )


# ---- static files -------------------------------------------------------------------------


@router.api_route("/static/{name}", methods=GET_HEAD, include_in_schema=False)
def static(request: Request, name: str) -> Response:
    """Files of ``service/web/static`` from memory; cached for a year when the URL names their digest."""
    file = static_files().get(name)
    if file is None:
        return Response("no such file\n", status_code=404, media_type="text/plain; charset=utf-8")
    versioned = request.query_params.get("v") == file.digest
    return _static_file(request, file, "public, max-age=31536000, immutable" if versioned else "public, max-age=300")


FAVICON = "favicon.svg"
FAVICON_MAX_AGE = 7 * 24 * 3600  # seconds: the address carries no digest, so a new icon shows within a week


@router.api_route("/favicon.ico", methods=GET_HEAD, include_in_schema=False)
def favicon(request: Request) -> Response:
    """The site's icon (``static/favicon.svg``, or the branding's) where browsers ask for it unprompted.

    Pages link the fingerprinted SVG; this answers the ``/favicon.ico`` request browsers and
    tools make anyway (otherwise a 404 on every page's first visit). SVG is served as SVG:
    browsers take the type from Content-Type, not the name.
    """
    return _static_file(request, static_files()[FAVICON], f"public, max-age={FAVICON_MAX_AGE}")


def _static_file(request: Request, file: StaticFile, cache_control: str) -> Response:
    """``file``'s body with its ETag and ``cache_control``; 304 when the request's If-None-Match has it."""
    headers = {"ETag": file.etag, "Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    if not_modified(request.headers.raw, file.etag, branding().loaded_at) and "if-none-match" in request.headers:
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.content_type, headers=headers)
