"""The one search function: a reader's words → published articles, best first (decision 33).

An article matches when every word of the query is among its words, ignoring case and
diacritics ("dang cong san" finds "Đảng Cộng sản"). Matches are ranked in tiers, then
newest first (then by id) within a tier:

0. every word spelled as typed, all in the title;
1. every word spelled as typed, in the title or the summary;
2. every word spelled as typed, anywhere (body, caption, author too);
3-5. the same three with the words' look-alikes ("đang" for "Đảng").

"Spelled as typed" compares exact keys (``service.search.words``) for the words the reader
typed with marks; a word typed without marks has nothing to honour, so any spelling of it
counts as typed. A query with no marks at all therefore has tiers 0-2 only.

No article is in two tiers (each leaves out what a better one took), so the ranking is
the tiers one after the other. They are asked in turn, each for at most the articles the
page still needs, so a common word is answered by its first tier alone; each in two
bounded parts (``service.search.statements``). PostgreSQL answers each from its indexes
(the newest entries walked, or a GIN index read), SQLite from FTS5: only that statement
differs between the two; the tiers, the order, the paging and the rows shown are this code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from service.errors import DomainError
from service.search.snippets import Piece, highlight, snippet
from service.search.statements import (
    RECENT,
    RECENT_PER_WANTED,
    Tier,
    boundary_statement,
    fts_match,
    pg_tsquery,
    rows_statement,
    tier_statement,
    tiers,
)
from service.search.words import MAX_WORD_CHARS, Word, tokens, word
from service.site.pages import CategoryLink, category_links, content_changed_at
from service.text import clean_line

# Bounds of what a reader may ask (decision 33): longer queries are refused with a page
# that says so, never cut silently; a deeper page than MAX_PAGE is refused the same way.
MAX_QUERY_CHARS = 200
MAX_WORDS = 8
MAX_PAGE = 25


class Refusal(enum.StrEnum):
    """Why a query was not run: each has its own sentence on the page."""

    TOO_LONG = "too_long"
    TOO_MANY_WORDS = "too_many_words"
    WORD_TOO_LONG = "word_too_long"
    BAD_PAGE = "bad_page"
    UNKNOWN_CATEGORY = "unknown_category"


class QueryRefused(DomainError):
    """The query is outside the bounds; ``reason`` says which."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a reader asked, checked: the text as shown back, its words (each once), a
    public category's slug and id or None, the page (1-based)."""

    text: str
    words: tuple[Word, ...]
    category: str | None
    category_id: int | None
    page: int


def parse_query(
    raw_text: str | None, category: str | None, page: str | None, public_categories: Mapping[str, int]
) -> SearchQuery:
    """Check a reader's ``?q=``, ``?category=`` and ``?page=``.

    The text is cleaned like any input (NFC, no control or invisible characters, one space
    between words). A query with no words is valid (the page invites one). Raises
    QueryRefused past MAX_QUERY_CHARS characters, MAX_WORDS words or a word longer than
    MAX_WORD_CHARS, for a page that is not 1..MAX_PAGE, and for a category whose slug is not
    in ``public_categories`` (slug → id; an empty ``category`` means all).
    """
    shown = clean_line(raw_text or "").strip()
    if len(shown) > MAX_QUERY_CHARS:
        raise QueryRefused(Refusal.TOO_LONG)
    found = [m.group() for m in tokens(shown)]
    if any(len(token) > MAX_WORD_CHARS for token in found):
        raise QueryRefused(Refusal.WORD_TOO_LONG)
    unique = tuple(dict.fromkeys(word(token) for token in found))
    if len(unique) > MAX_WORDS:
        raise QueryRefused(Refusal.TOO_MANY_WORDS)
    number = 1
    if page:
        if not (page.isascii() and page.isdigit() and len(page) <= 3 and 1 <= int(page) <= MAX_PAGE):
            raise QueryRefused(Refusal.BAD_PAGE)
        number = int(page)
    if category and category not in public_categories:
        raise QueryRefused(Refusal.UNKNOWN_CATEGORY)
    category_id = public_categories[category] if category else None
    return SearchQuery(shown, unique, category or None, category_id, number)


@dataclass(frozen=True, slots=True)
class Result:
    """One article found: what a results page shows, its words marked."""

    id: int
    slug: str
    title: tuple[Piece, ...]
    snippet: tuple[Piece, ...]
    image_url: str | None
    published_at: datetime
    categories: tuple[CategoryLink, ...]
    tier: int


@dataclass(frozen=True, slots=True)
class Results:
    """One page of results; ``more``: a next page exists; ``changed_at``: the last article change."""

    results: tuple[Result, ...]
    page: int
    more: bool
    changed_at: datetime | None


def _tier_ids(
    session: Session, tier: Tier, query: SearchQuery, boundary: tuple[datetime, int] | None, depth: int
) -> list[int]:
    """The ids of the newest ``depth`` articles of ``tier``, read in two parts at ``boundary``."""
    dialect = session.get_bind().dialect.name
    params: dict[str, object] = {"depth": depth}
    if dialect == "postgresql":
        params["include"] = pg_tsquery(tier.include.keys)
        for n, condition in enumerate(tier.exclude):
            params[f"exclude{n}"] = pg_tsquery(condition.keys)
    else:
        params["match"] = fts_match(tier)
    if query.category_id is not None:
        params["category_id"] = query.category_id
    if boundary is not None:
        params["boundary_at"], params["boundary_id"] = boundary
    exclude = tuple(c.scope for c in tier.exclude)
    statement = tier_statement(
        dialect, tier.include.scope, exclude, query.category_id is not None, boundary is not None
    )
    return [row.article_id for row in session.connection().execute(statement, params)]


def _boundary(session: Session, query: SearchQuery, recent: int) -> tuple[datetime, int] | None:
    """Where a tier's recent part ends: the (published_at, id) of the ``recent``-th newest
    published article (of the category); None when there are not that many."""
    params: dict[str, object] = {"offset": recent - 1}
    if query.category_id is not None:
        params["category_id"] = query.category_id
    row = session.connection().execute(boundary_statement(query.category_id is not None), params).one_or_none()
    return None if row is None else (row[0], row[1])


def search(session: Session, query: SearchQuery, page_size: int, recent: int | None = None) -> Results:
    """One page of the published articles that match ``query``, best first.

    The tiers are asked in turn until the page, the pages before it and one more article
    are found (a common word is answered by its first tier alone), each in its recent part
    first: the newest ``recent`` articles (by default statements.RECENT, or RECENT_PER_WANTED
    per article wanted on a deep page). Then one statement reads the page's articles. On
    the session's connection, no ORM; a query with no words finds nothing and asks only
    for the last change.
    """
    if not query.words:
        return Results((), query.page, False, content_changed_at(session))
    offset = (query.page - 1) * page_size
    wanted = offset + page_size + 1
    boundary = _boundary(session, query, recent or max(RECENT, RECENT_PER_WANTED * wanted))
    ranked: list[tuple[int, int]] = []  # (article id, tier), best first
    for number, tier in enumerate(tiers(query.words)):
        found = _tier_ids(session, tier, query, boundary, wanted - len(ranked))
        ranked += [(article_id, number) for article_id in found]
        if len(ranked) >= wanted:
            break
    shown = ranked[offset : offset + page_size]
    if not shown:
        return Results((), query.page, False, content_changed_at(session))
    ids = [article_id for article_id, _ in shown]
    rows = {row.id: row for row in session.connection().execute(rows_statement(), {"ids": ids})}
    loose = frozenset(w.loose for w in query.words)
    results = tuple(
        Result(
            id=row.id,
            slug=row.slug,
            title=highlight(row.title, loose),
            snippet=snippet(row.summary, row.body_html, loose),
            image_url=row.image_url,
            published_at=row.published_at,
            categories=category_links(row.category_links),
            tier=tier,
        )
        for article_id, tier in shown
        if (row := rows.get(article_id)) is not None
    )
    changed_at = next(iter(rows.values())).changed_at if rows else content_changed_at(session)
    return Results(results, query.page, len(ranked) > offset + page_size, changed_at)
