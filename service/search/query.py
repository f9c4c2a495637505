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

Each tier is one bounded query — the newest ``depth`` entries that meet it — and an
article takes its best tier; ``depth`` (the page's end, plus one) is enough because
every article shown on the page is among the newest ``depth`` of its tier's matches.
The database answers each tier from an index: PostgreSQL walks the newest entries for a
common word and reads the GIN index for a rare one; SQLite asks FTS5. Only the match
differs between the two statements; the ranking, the paging and the rows are the same.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.db.models import Article, ArticleStatus, Category, article_categories
from service.errors import DomainError
from service.search.index import fts_entries, pg_entries
from service.search.snippets import Piece, highlight, snippet
from service.search.words import MAX_WORD_CHARS, Word, tokens, word
from service.site.pages import CategoryLink, categories_column, category_links, content_changed_at
from service.text import clean_line

# Bounds of what a reader may ask (decision 33): longer queries are refused with a page
# that says so, never cut silently; a deeper page than MAX_PAGE is refused the same way.
MAX_QUERY_CHARS = 200
MAX_WORDS = 8
MAX_PAGE = 25
TIERS_PER_SPELLING = 3  # title, title or summary, anywhere


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
    public category's slug or None, the page (1-based)."""

    text: str
    words: tuple[Word, ...]
    category: str | None
    page: int


def parse_query(
    raw_text: str | None, category: str | None, page: str | None, public_slugs: Sequence[str]
) -> SearchQuery:
    """Check a reader's ``?q=``, ``?category=`` and ``?page=``.

    The text is cleaned like any input (NFC, no control or invisible characters, one space
    between words). A query with no words is valid (the page invites one). Raises
    QueryRefused past MAX_QUERY_CHARS characters, MAX_WORDS words or a word longer than
    MAX_WORD_CHARS, for a page that is not 1..MAX_PAGE, and for a category that is not in
    ``public_slugs`` (an empty ``category`` means all).
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
    if category and category not in public_slugs:
        raise QueryRefused(Refusal.UNKNOWN_CATEGORY)
    return SearchQuery(shown, unique, category or None, number)


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


class Scope(enum.Enum):
    TITLE = 0
    HEADING = 1  # title or summary
    ANYWHERE = 2


def tiers(words: Sequence[Word]) -> list[tuple[Scope, tuple[str, ...]]]:
    """The tiers of a query, best first: (where every key must be, the keys)."""
    exact = tuple(sorted({w.exact for w in words}))
    loose = tuple(sorted({w.loose for w in words}))
    spellings = [exact, loose] if exact != loose else [loose]
    return [(scope, keys) for keys in spellings for scope in Scope]


def pg_tsquery(scope: Scope, keys: Sequence[str]) -> str:
    """``'dang':A & 'cong':A`` (title), ``'dang' & 'cong'`` (heading or document)."""
    weight = ":A" if scope is Scope.TITLE else ""
    return " & ".join(f"'{key}'{weight}" for key in keys)


def fts_match(scope: Scope, keys: Sequence[str]) -> str:
    """``{title} : "dang" AND {title} : "cong"``, FTS5's column filters per key."""
    columns = {Scope.TITLE: "{title} : ", Scope.HEADING: "{title summary} : ", Scope.ANYWHERE: ""}[scope]
    return " AND ".join(f'{columns}"{key}"' for key in keys)


def _category_id() -> ColumnElement[Any]:
    return select(Category.id).where(Category.slug == bindparam("category", type_=String)).scalar_subquery()


def _pg_tier(n: int, scope: Scope, in_category: bool) -> Select[Any]:
    entries = pg_entries.alias(f"s{n}")
    vector = entries.c.document if scope is Scope.ANYWHERE else entries.c.heading
    # Rendered into the statement, not bound: PostgreSQL plans each query with the word's
    # own statistics (a common word walks the newest entries, a rare one reads the GIN
    # index), where a prepared statement's generic plan would guess one way for all.
    tsquery = cast(bindparam(f"q{n}", type_=Text, literal_execute=True), postgresql.TSQUERY)
    query = select(entries.c.article_id, entries.c.published_at, literal(n).label("tier")).where(
        vector.op("@@")(tsquery)
    )
    order: tuple[Any, ...] = (entries.c.published_at.desc(), entries.c.article_id.desc())
    if in_category:
        # Ordered by the link's copy of the date: a common word walks the category's own
        # range of ix_article_categories_listing.
        links = article_categories.alias(f"l{n}")
        query = query.join(links, links.c.article_id == entries.c.article_id).where(
            links.c.category_id == _category_id(), links.c.published_at.is_not(None)
        )
        order = (links.c.published_at.desc(), links.c.article_id.desc())
    return query.order_by(*order).limit(bindparam("depth", type_=Integer))


def _fts_tier(n: int, in_category: bool) -> Select[Any]:
    query = (
        select(fts_entries.c.rowid.label("article_id"), Article.published_at, literal(n).label("tier"))
        .join(Article, Article.id == fts_entries.c.rowid)
        .where(text(f"article_search MATCH :q{n}"))
    )
    if in_category:
        query = query.where(
            fts_entries.c.rowid.in_(
                select(article_categories.c.article_id).where(
                    article_categories.c.category_id == _category_id(), article_categories.c.published_at.is_not(None)
                )
            )
        )
    return query.order_by(Article.published_at.desc(), Article.id.desc()).limit(bindparam("depth", type_=Integer))


@lru_cache(maxsize=16)
def search_statement(dialect: str, tier_count: int, in_category: bool) -> Select[Any]:
    """The statement for ``tier_count`` tiers, built once per shape (decision 23): the
    tiers' bounded matches, each article at its best tier, the page's rows with their
    categories and the last change to any article."""
    parts = [
        _pg_tier(n, scope, in_category) if dialect == "postgresql" else _fts_tier(n, in_category)
        for n, scope in zip(range(tier_count), list(Scope) * 2, strict=False)
    ]
    # Each tier is a subquery: SQLite allows no ORDER BY or LIMIT in a compound's members.
    members = [select(*part.subquery().c) for part in parts]
    hits = union_all(*members).subquery("hits")
    ranked = (
        select(
            hits.c.article_id,
            func.min(hits.c.tier).label("tier"),
            func.max(hits.c.published_at).label("published_at"),
        )
        .group_by(hits.c.article_id)
        .subquery("ranked")
    )
    changed = select(func.max(Article.updated_at)).scalar_subquery()
    return (
        select(
            Article.id,
            Article.slug,
            Article.title,
            Article.summary,
            Article.body_html,
            Article.image_url,
            Article.published_at,
            categories_column(),
            changed.label("changed_at"),
            ranked.c.tier,
        )
        .join(ranked, ranked.c.article_id == Article.id)
        # The index holds published articles only (kept in step in their transactions);
        # this is the rule itself, checked again where the rows are read.
        .where(Article.status == ArticleStatus.PUBLISHED.value)
        .order_by(ranked.c.tier, ranked.c.published_at.desc(), ranked.c.article_id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=BigInteger))
    )


def search(session: Session, query: SearchQuery, page_size: int) -> Results:
    """One page of the published articles that match ``query``, best first.

    One statement (on the session's connection, no ORM); a query with no words finds
    nothing without asking the database for more than the last change.
    """
    if not query.words:
        return Results((), query.page, False, content_changed_at(session))
    dialect = session.get_bind().dialect.name
    planned = tiers(query.words)
    offset = (query.page - 1) * page_size
    params: dict[str, object] = {"depth": offset + page_size + 1, "limit": page_size + 1, "offset": offset}
    for n, (scope, keys) in enumerate(planned):
        params[f"q{n}"] = pg_tsquery(scope, keys) if dialect == "postgresql" else fts_match(scope, keys)
    if query.category is not None:
        params["category"] = query.category
    statement = search_statement(dialect, len(planned), query.category is not None)
    rows = session.connection().execute(statement, params).all()
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
            tier=row.tier,
        )
        for row in rows[:page_size]
    )
    changed_at = rows[0].changed_at if rows else content_changed_at(session)
    return Results(results, query.page, len(rows) > page_size, changed_at)
