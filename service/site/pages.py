"""Reads behind the public pages: listings (keyset-paged), one article, what changed last.

Every query is indexed and bounded (LIMIT), so a page costs the same with a hundred or
a hundred thousand articles. Results are frozen values, never ORM objects.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import BigInteger, Integer, Select, String, bindparam, func, select, tuple_, union
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, Label

from service.articles.categories import public_category
from service.articles.corrections import Correction, corrections_of
from service.db.models import Article, ArticleCorrection, ArticleStatus, Category, article_categories
from service.errors import DomainError, NotFound
from service.inputs import is_slug

# Keyset cursors are article ids, which the database holds as signed 64-bit integers.
MAX_ID = 2**63 - 1


class Withdrawn(DomainError):
    """The article existed and was taken down: 410 Gone, not 404. ``reason``: what the desk
    said when withdrawing it, for the 410 page (None: nothing said; decision 0043)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CategoryLink:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Card:
    """An article as a listing shows it."""

    id: int
    slug: str
    title: str
    summary: str | None
    image_url: str | None
    published_at: datetime
    updated_at: datetime
    categories: tuple[CategoryLink, ...]


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a listing, newest first; ``older`` is the cursor of the next page, if any."""

    cards: tuple[Card, ...]
    older: int | None
    before: int | None
    category: CategoryLink | None


@dataclass(frozen=True, slots=True)
class ArticleView:
    """Everything the article page shows."""

    id: int
    slug: str
    title: str
    summary: str | None
    body_html: str  # sanitised (nh3 allow-list) when it was stored
    author: str | None
    image_url: str | None
    image_caption: str | None
    image_alt: str | None
    source_name: str | None
    source_url: str | None
    published_at: datetime
    updated_at: datetime
    categories: tuple[CategoryLink, ...]
    # Its corrections, newest first (Luật Báo chí 2016, Art. 42; decision 0043).
    corrections: tuple[Correction, ...] = ()


def parse_id(raw: str) -> int:
    """An article id from a URL: ASCII digits within the database's range, else NotFound."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
        raise NotFound(f"no article {raw[:40]!r}")
    return int(raw)


def parse_cursor(raw: str | None) -> int | None:
    """``?before=`` as an article id; anything else is NotFound (a page that does not exist)."""
    if raw is None:
        return None
    return parse_id(raw)


def category_by_slug(session: Session, slug: str) -> CategoryLink:
    """The public category with this slug (``service/articles/categories.py``); NotFound otherwise,
    also for a category that only drafts use: its name is not reviewed yet."""
    found = public_category(session, slug=slug)
    if found is None:
        raise NotFound(f"no category {slug[:200]!r}")
    return CategoryLink(found.slug, found.name)


# An article's categories travel in its own row as "slug<US>name<RS>slug<US>name": one
# query per page instead of two. Stored names never hold these control characters
# (service.text removes them from every name).
_UNIT, _RECORD = "\x1f", "\x1e"


def categories_column() -> Label[str]:
    """The article's categories packed in one column of its row (``category_links`` unpacks them)."""
    links = article_categories.alias("links")
    named = Category.__table__.alias("named")
    # Each link's category by its primary key, not a join: with a table this small PostgreSQL
    # planned a hash join, building the hash again for every listed article (0.25 → 0.18 ms
    # a page, median of EXPLAIN ANALYZE; bench/README.md, pages).
    pair = select(named.c.slug + _UNIT + named.c.name).where(named.c.id == links.c.category_id).scalar_subquery()
    return (
        select(func.aggregate_strings(pair, _RECORD))
        .select_from(links)
        .where(links.c.article_id == Article.id)
        .scalar_subquery()
        .label("category_links")
    )


@lru_cache(maxsize=1024)
def category_links(packed: str | None) -> tuple[CategoryLink, ...]:
    """What ``categories_column`` packed, by slug.

    Remembered by the packed text (a frozen result, a pure function of it): a site has
    few categories and so few combinations, and a listing page unpacks twenty of them
    (about a tenth of a deep page's query time in Python, bench/README.md, bench.pages).
    """
    if not packed:
        return ()
    pairs = (record.split(_UNIT, 1) for record in packed.split(_RECORD))
    return tuple(sorted((CategoryLink(slug, name) for slug, name in pairs), key=lambda link: link.slug))


@lru_cache(maxsize=4)
def _listing_statement(in_category: bool, with_cursor: bool) -> Select[Any]:
    """The listing query, built once per shape: a statement object keeps its compiled
    form and cache key, so a request only binds ``limit``, ``slug`` and ``before``."""
    changed = select(func.max(Article.updated_at)).scalar_subquery()
    columns: list[Any] = [
        Article.id,
        Article.slug,
        Article.title,
        Article.summary,
        Article.image_url,
        Article.published_at,
        Article.updated_at,
        categories_column(),
        changed.label("changed_at"),
    ]
    slug = bindparam("slug", type_=String)
    if in_category:
        columns.append(select(Category.name).where(Category.slug == slug).scalar_subquery().label("category_name"))
    query = select(*columns).where(Article.status == ArticleStatus.PUBLISHED.value)
    # A category's page walks its own links by their copy of published_at (NULL unless
    # published; service/articles/derived.py keeps it in step): one backward range of
    # ix_article_categories_listing, however few of the site's articles the category
    # holds. The category's id is a subquery, not a join, so PostgreSQL knows it before
    # the scan and reads the range in the page's order (a join sorted the whole category).
    published_at: ColumnElement[Any] = Article.__table__.c.published_at
    article_id: ColumnElement[Any] = Article.__table__.c.id
    if in_category:
        links = article_categories
        published_at, article_id = links.c.published_at, links.c.article_id
        category_id = select(Category.id).where(Category.slug == slug).scalar_subquery()
        query = (
            query.select_from(links)
            .join(Article, Article.id == links.c.article_id)
            .where(links.c.category_id == category_id, links.c.published_at.is_not(None))
        )
    if with_cursor:
        cursor = bindparam("before", type_=BigInteger)
        # The plain bound lets the index start at the cursor.
        anchor = select(Article.published_at).where(Article.id == cursor).scalar_subquery()
        query = query.where(published_at <= anchor, tuple_(published_at, article_id) < tuple_(anchor, cursor))
    return query.order_by(published_at.desc(), article_id.desc()).limit(bindparam("limit", type_=Integer))


def latest(
    session: Session, *, limit: int, category_slug: str | None = None, before: int | None = None
) -> tuple[Listing, datetime | None]:
    """The newest published articles (of one category), ``limit`` per page, older than ``before``;
    and `content_changed_at`, read in the same statement.

    Keyset paging on (published_at, id): every page, however deep, is one index range
    scan. The category, the cursor, each card's categories and the last change ride
    along in that one query; only an empty page looks further, to tell an empty
    category from an unknown one (NotFound). A ``category_slug`` that is not a slug at all
    is NotFound before any query (PostgreSQL refuses a NUL byte in one: "/categories/%00").
    """
    if category_slug is not None and not is_slug(category_slug):
        raise NotFound(f"no category {category_slug[:200]!r}")
    params: dict[str, object] = {"limit": limit + 1}
    if category_slug is not None:
        params["slug"] = category_slug
    if before is not None:
        params["before"] = before
    # On the session's connection: a select of columns needs none of the ORM's execution
    # layer, which costs about as much CPU as the rest of the read (measured: bench/README.md).
    statement = _listing_statement(category_slug is not None, before is not None)
    rows = _rows(session, statement, params)
    if not rows:
        return _empty_listing(session, category_slug, before)
    shown = rows[:limit]
    # Columns by position, in _listing_statement's order.
    cards = tuple(
        Card(
            id=row[0],
            slug=row[1],
            title=row[2],
            summary=row[3],
            image_url=row[4],
            published_at=row[5],
            updated_at=row[6],
            categories=category_links(row[7]),
        )
        for row in shown
    )
    older = shown[-1][0] if len(rows) > limit else None
    category = CategoryLink(category_slug, rows[0][9]) if category_slug is not None else None
    changed_at: datetime | None = rows[0][8]
    return Listing(cards=cards, older=older, before=before, category=category), (
        None if changed_at is None else changed_at.astimezone(UTC)
    )


def _rows(session: Session, statement: Select[Any], params: dict[str, object]) -> Sequence[Sequence[Any]]:
    """``statement``'s rows as tuples, read on the session's connection (decision 49).

    On PostgreSQL through the driver's own cursor, with the SQL compiled once: SQLAlchemy's
    execution layer and its per-value result processing cost as much CPU as the driver's
    work for a listing's 21 rows (about 0.2 ms a page; bench/README.md, bench.pages), and
    listings deep in the archive are rendered for each new cursor. Instants come back
    aware (timestamptz), in the connection's zone; callers that need UTC convert (as
    ``UTCDateTime`` would). Elsewhere (SQLite: naive values to make aware) through SQLAlchemy.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return connection.execute(statement, params).all()
    sql, fixed = _driver_sql(statement, connection.dialect)
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    with driver.cursor() as cursor:
        return cursor.execute(sql, {**fixed, **params}).fetchall()


@lru_cache(maxsize=8)
def _driver_sql(statement: Select[Any], dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """``statement`` compiled for ``dialect`` once: its SQL (psycopg's ``%(name)s`` style) and
    the values bound when it was built (the status, the packing separators)."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


def _empty_listing(session: Session, category_slug: str | None, before: int | None) -> tuple[Listing, datetime | None]:
    category = category_by_slug(session, category_slug) if category_slug is not None else None
    if before is not None and session.get(Article, before) is None:
        raise NotFound(f"no listing page before article {before}")
    return Listing(cards=(), older=None, before=before, category=category), content_changed_at(session)


def content_changed_at(session: Session) -> datetime | None:
    """The last change to any article: a listing cannot have changed after it.

    Covers what leaves a listing too (a withdrawal moves ``updated_at``), which the
    newest date among the listed items would not.
    """
    return session.scalar(select(func.max(Article.updated_at)))


@lru_cache(maxsize=1)
def _article_statement() -> Select[Any]:
    # Columns, not an ORM object: a page needs no identity map, and this is its hot path.
    return select(
        Article.id,
        Article.slug,
        Article.title,
        Article.summary,
        Article.body_html,
        Article.author,
        Article.image_url,
        Article.image_caption,
        Article.image_alt,
        Article.source_name,
        Article.source_url,
        Article.status,
        Article.publish_at,
        Article.published_at,
        Article.updated_at,
        Article.withdrawal_reason,
        categories_column(),
        # Whether it has corrections, in the same row: an article without any (most) costs no second statement.
        select(func.max(ArticleCorrection.id))
        .where(ArticleCorrection.article_id == Article.id)
        .scalar_subquery()
        .label("last_correction"),
    ).where(Article.id == bindparam("id", type_=BigInteger))


def article_view(session: Session, article_id: int, now: datetime) -> ArticleView:
    """The article as its page shows it.

    Raises NotFound for drafts, unknown ids and scheduled articles before their time,
    Withdrawn for withdrawn ones. A scheduled article whose time has come is shown even
    if beat has not flipped it yet, so its announced link never answers 404.
    """
    if not 1 <= article_id <= MAX_ID:
        raise NotFound(f"article {article_id} does not exist")
    article = session.connection().execute(_article_statement(), {"id": article_id}).one_or_none()
    if article is None:
        raise NotFound(f"article {article_id} does not exist")
    if article.status == ArticleStatus.WITHDRAWN:
        raise Withdrawn(f"article {article_id} was withdrawn", article.withdrawal_reason)
    due = article.status == ArticleStatus.SCHEDULED and article.publish_at is not None and article.publish_at <= now
    if article.status != ArticleStatus.PUBLISHED and not due:
        raise NotFound(f"article {article_id} is not published")
    published_at = article.published_at or article.publish_at
    assert published_at is not None
    return ArticleView(
        id=article.id,
        slug=article.slug,
        title=article.title,
        summary=article.summary,
        body_html=article.body_html,
        author=article.author,
        image_url=article.image_url,
        image_caption=article.image_caption,
        image_alt=article.image_alt,
        source_name=article.source_name,
        source_url=article.source_url,
        published_at=published_at,
        updated_at=article.updated_at,
        categories=category_links(article.category_links),
        corrections=tuple(corrections_of(session, article.id)) if article.last_correction is not None else (),
    )


@dataclass(frozen=True, slots=True)
class Headline:
    """An article as a list of links names it: "related articles"."""

    id: int
    slug: str
    title: str
    published_at: datetime


# An article names at most this many of its categories when related articles are looked up.
RELATED_CATEGORIES = 4


@lru_cache(maxsize=RELATED_CATEGORIES)
def _related_statement(categories: int) -> Select[Any]:
    """The newest published articles of ``categories`` categories (``:slug0`` …): each
    category's newest ``:limit`` from its own range of ix_article_categories_listing, then
    the newest ``:limit`` of those, each once."""
    limit = bindparam("limit", type_=Integer)
    ranges = []
    for n in range(categories):
        links = article_categories.alias(f"l{n}")
        category_id = select(Category.id).where(Category.slug == bindparam(f"slug{n}", type_=String))
        newest = (
            select(links.c.article_id, links.c.published_at)
            .where(
                links.c.category_id == category_id.scalar_subquery(),
                links.c.published_at.is_not(None),
            )
            .order_by(links.c.published_at.desc(), links.c.article_id.desc())
            .limit(limit)
            .subquery()
        )
        ranges.append(select(newest.c.article_id, newest.c.published_at))
    found = union(*ranges).subquery("found")
    return (
        select(Article.id, Article.slug, Article.title, Article.published_at)
        .join(found, found.c.article_id == Article.id)
        .where(Article.status == ArticleStatus.PUBLISHED.value)
        .order_by(found.c.published_at.desc(), found.c.article_id.desc())
        .limit(limit)
    )


def related_articles(
    session: Session, article: ArticleView, limit: int, generation: int | None = None
) -> tuple[Headline, ...]:
    """The newest ``limit`` published articles sharing a category with ``article`` (its
    first RELATED_CATEGORIES by slug), newest first, itself left out; none for an article
    without one.

    The newest of a set of categories changes only with the site's ``generation`` (every
    publish, edit and withdrawal moves it), so with a generation the list is read once per
    set of categories and generation in this process, for every article of that set: the
    query was a seventh of an article page's CPU (py-spy, bench.pages, 2026-12-07).
    """
    slugs = tuple(c.slug for c in article.categories[:RELATED_CATEGORIES])
    if not slugs:
        return ()
    key = (slugs, limit)
    newest = _related_held.get(generation, key) if generation is not None else None
    if newest is None:
        # One more than shown, so that leaving the article itself out still leaves ``limit``.
        params: dict[str, object] = {"limit": limit + 1} | {f"slug{n}": s for n, s in enumerate(slugs)}
        rows = session.connection().execute(_related_statement(len(slugs)), params)
        newest = tuple(Headline(row.id, row.slug, row.title, row.published_at) for row in rows)
        if generation is not None:
            _related_held.put(generation, key, newest)
    return tuple(headline for headline in newest if headline.id != article.id)[:limit]


class _HeldByGeneration:
    """Values read at one site generation, forgotten when another generation's value is put;
    at most ``MAX_HELD`` (a site has few sets of categories). A value is only ever given for
    the generation it was read at. Sync endpoints call it from the thread pool: one lock."""

    MAX_HELD = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._values: dict[object, tuple[Headline, ...]] = {}

    def get(self, generation: int, key: object) -> tuple[Headline, ...] | None:
        with self._lock:
            return self._values.get(key) if generation == self._generation else None

    def put(self, generation: int, key: object, value: tuple[Headline, ...]) -> None:
        with self._lock:
            if generation != self._generation or len(self._values) >= self.MAX_HELD:
                self._generation, self._values = generation, {}
            self._values[key] = value


_related_held = _HeldByGeneration()
