"""Search (``/tim-kiem``, and ``/search``, the same page) and ``/theo-doi``: public pages
answered by the ASGI layer like the home page (decision 21), validated by the site's
generation (decision 33 says why search is one of them).

Thin: the query is checked and run by ``service.search``, the follow page's content comes
from ``service.site.follow``, the HTML from ``service.web`` templates. A query outside the
bounds gets the search page again with a sentence saying why (400), never an error.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.api.generation_pages import HTML, Loaded, generation_page
from service.i18n import N_, gettext, language
from service.search.query import MAX_PAGE, MAX_QUERY_CHARS, MAX_WORDS, QueryRefused, Refusal, SearchQuery, parse_query
from service.search.query import search as run_search
from service.search.words import MAX_WORD_CHARS
from service.site.follow import channels, feed_groups
from service.site.meta import follow_head, search_head
from service.site.navigation import Navigation
from service.site.pages import content_changed_at
from service.web.http import SEARCH_PATHS, security_headers
from service.web.templating import branding, render

SEARCH_PATH = SEARCH_PATHS[0]
# What each refusal says, with the bound it names (msgids: translated where shown).
REFUSALS = {
    Refusal.TOO_LONG: (N_("Từ khóa dài quá %(n)s ký tự. Hãy tìm với ít chữ hơn."), MAX_QUERY_CHARS),
    Refusal.TOO_MANY_WORDS: (N_("Hãy tìm với nhiều nhất %(n)s từ khác nhau."), MAX_WORDS),
    Refusal.WORD_TOO_LONG: (N_("Có một từ dài quá %(n)s ký tự. Hãy bỏ bớt từ đó."), MAX_WORD_CHARS),
    Refusal.BAD_PAGE: (N_("Không có trang kết quả này. Kết quả chỉ xem được đến trang %(n)s."), MAX_PAGE),
    Refusal.UNKNOWN_CATEGORY: (N_("Không có chuyên mục này. Hãy chọn một chuyên mục trong danh sách."), 0),
}


def search_url(text: str, category: str | None, page: int = 1) -> str:
    """The path and query of a results page, the way the page links to itself:
    ``/tim-kiem?q=…&category=…&page=…`` (the reader's language is added by the template)."""
    params = [("q", text)]
    if category:
        params.append(("category", category))
    if page > 1:
        params.append(("page", str(page)))
    return f"{SEARCH_PATH}?{urlencode(params)}"


def search_page(request: Request) -> Response:
    """The search page for ``?q=``, ``?category=`` and ``?page=``: the results, the form
    alone for an empty query, the form and the reason for a refused one (400)."""
    raw_text = request.query_params.get("q")
    raw_category = request.query_params.get("category")

    def load(session: Session, navigation: Navigation) -> Loaded:
        try:
            query = parse_query(raw_text, raw_category, request.query_params.get("page"), navigation.ids_by_slug())
        except QueryRefused as refused:
            return _refused(refused.reason, raw_text or "", raw_category, navigation)
        page_size = get_settings().page_size
        results = run_search(session, query, page_size)
        names = {c.slug: c.name for c in navigation.categories}
        return (
            lambda: _render(
                navigation,
                query,
                status=200,
                results=results,
                first_number=(query.page - 1) * page_size + 1,
                category_name=names.get(query.category or ""),
                previous_url=search_url(query.text, query.category, query.page - 1) if query.page > 1 else None,
                next_url=search_url(query.text, query.category, query.page + 1) if results.more else None,
            ),
            results.changed_at,
        )

    return generation_page(request, load)


def _render(navigation: Navigation, query: SearchQuery, status: int, **context: object) -> str:
    site = branding()
    heading = gettext("Kết quả tìm kiếm") if query.words else gettext("Tìm kiếm")
    url = site.base_url + (search_url(query.text, query.category, query.page) if query.text else SEARCH_PATH)
    return render(
        "search.html",
        head=search_head(site, heading, url),
        navigation=navigation,
        query=query,
        status=status,
        **context,
    )


def _refused(reason: Refusal, raw_text: str, raw_category: str | None, navigation: Navigation) -> Response:
    """The search page again, the query as typed (cut to the bound) and why it was not run."""
    message, bound = REFUSALS[reason]
    slugs = navigation.ids_by_slug()
    shown = SearchQuery(
        text=raw_text[:MAX_QUERY_CHARS],
        words=(),
        category=raw_category if raw_category in slugs else None,
        category_id=None,
        page=1,
    )
    body = _render(navigation, shown, status=400, refusal=gettext(message, n=bound), results=None)
    headers = {"Cache-Control": "no-cache", "X-Robots-Tag": "noindex", **security_headers(branding())}
    return Response(body, status_code=400, media_type=HTML, headers=headers)


def follow_page(request: Request) -> Response:
    """``/theo-doi``: every way to follow the desk and every feed's address."""

    def load(session: Session, navigation: Navigation) -> Loaded:
        settings = get_settings()
        offered = channels(settings)
        feeds = feed_groups(settings.base_url, navigation.categories)
        changed_at = content_changed_at(session)
        site = branding()
        heading = gettext("Theo dõi %(site)s", site=site.title)
        description = gettext("Nhận tin mới qua thư điện tử, Zalo, Telegram hoặc nguồn tin RSS, Atom, JSON Feed.")
        return (
            lambda: render(
                "follow.html",
                head=follow_head(site, heading, description),
                navigation=navigation,
                heading=heading,
                channels=offered,
                feeds=feeds,
                push_categories=[(c.slug, c.name) for c in navigation.categories],
                in_english=language() != "vi",
            ),
            changed_at,
        )

    return generation_page(request, load)
