"""Search's statements: the tiers of a query and how each database is asked for one (decision 33).

A tier is read in two parts split at a boundary, the ``RECENT``-th newest published article
(of the category, when one is chosen):

- the recent part: its matches among the newest RECENT articles, newest first. Bounded
  whatever the plan: walking the newest entries reads at most RECENT of them;
- the older part, read only when the recent one held fewer than the page needs (in the
  same statement, behind a one-time filter): the matches older than the boundary,
  collected from the index and then sorted (the order is an expression no index gives,
  so PostgreSQL cannot walk). A word that rare among the newest RECENT is rare enough to
  collect.

Without the split PostgreSQL walks the newest entries whenever its statistics call a
word common, checking each entry's keys — which TOAST keeps out of the row, so each check
costs a fetch the planner does not count — and for a word that is common overall but not
among the newest (or in a category) it read thousands of them (bench/README.md, search).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from service.db.models import Article, ArticleStatus, article_categories
from service.search.index import fts_entries, pg_entries
from service.search.words import Word
from service.site.pages import categories_column

# How many of the newest articles the recent part of a tier looks through, at least.
RECENT = 1000
# …and at least this many times the articles a page needs (deep pages of common words).
RECENT_PER_WANTED = 20


class Scope(enum.Enum):
    """Where every key of a condition must be."""

    TITLE = 0
    HEADING = 1  # the title or the summary
    ANYWHERE = 2


@dataclass(frozen=True, slots=True)
class Condition:
    """Every key of ``keys`` within ``scope``."""

    scope: Scope
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tier:
    """The articles that meet ``include`` and none of ``exclude`` (what better tiers took)."""

    include: Condition
    exclude: tuple[Condition, ...]


def tiers(words: Sequence[Word]) -> list[Tier]:
    """The tiers of a query, best first; no article is in two of them.

    The scopes of one spelling nest (title ⊂ heading ⊂ anywhere) and the exact spelling's
    matches are among the loose one's, so a tier need only leave out the tier before it
    of its spelling and, for the loose spelling, every exact match.
    """
    exact = tuple(sorted({w.exact for w in words}))
    loose = tuple(sorted({w.loose for w in words}))
    spellings = [exact, loose] if exact != loose else [loose]
    planned: list[Tier] = []
    for group, keys in enumerate(spellings):
        for scope in Scope:
            exclude = []
            if scope is not Scope.TITLE:
                exclude.append(Condition(Scope(scope.value - 1), keys))
            if group:
                exclude.append(Condition(Scope.ANYWHERE, spellings[0]))
            planned.append(Tier(Condition(scope, keys), tuple(exclude)))
    return planned


def pg_tsquery(keys: Sequence[str]) -> str:
    """``'cong' & 'dang'``: every key (the vector of the condition's scope holds them)."""
    return " & ".join(f"'{key}'" for key in keys)


_FTS_COLUMNS = {Scope.TITLE: "{title} : ", Scope.HEADING: "{title summary} : ", Scope.ANYWHERE: ""}


def fts_match(tier: Tier) -> str:
    """``({title summary} : "cong" AND {title summary} : "dang") NOT ({title} : "cong" AND …)``:
    FTS5's column filters per key, its NOT for what better tiers took."""

    def condition(c: Condition) -> str:
        return "(" + " AND ".join(f'{_FTS_COLUMNS[c.scope]}"{key}"' for key in c.keys) + ")"

    return " NOT ".join(condition(c) for c in (tier.include, *tier.exclude))


def _rendered(name: str, type_: Any) -> Any:
    # Rendered into the statement, not bound: PostgreSQL plans each query with the words'
    # own statistics and the category's own size, where a prepared statement's generic plan
    # would guess one way for all.
    return bindparam(name, type_=type_, literal_execute=True)


def _tsquery(name: str) -> ColumnElement[Any]:
    return cast(_rendered(name, Text), postgresql.TSQUERY)


def _matching(
    dialect: str, include: Scope, exclude: tuple[Scope, ...], in_category: bool
) -> tuple[Select[Any], ColumnElement[Any], ColumnElement[Any]]:
    """The articles of a tier: (their ids and dates, the date column, the id column)."""
    date: ColumnElement[Any]
    article_id: ColumnElement[Any]
    if dialect == "postgresql":
        vectors = {Scope.TITLE: pg_entries.c.title, Scope.HEADING: pg_entries.c.heading}
        conditions = [vectors.get(include, pg_entries.c.document).op("@@")(_tsquery("include"))]
        conditions += [
            ~vectors.get(scope, pg_entries.c.document).op("@@")(_tsquery(f"exclude{n}"))
            for n, scope in enumerate(exclude)
        ]
        date, article_id = pg_entries.c.published_at, pg_entries.c.article_id
        query = select().select_from(pg_entries).where(*conditions)
        if in_category:
            links = article_categories
            query = query.join(links, links.c.article_id == article_id).where(
                links.c.category_id == _rendered("category_id", BigInteger), links.c.published_at.is_not(None)
            )
            # The link's copy of the date: a common word walks the category's own range of
            # ix_article_categories_listing.
            date, article_id = links.c.published_at, links.c.article_id
    else:
        date, article_id = Article.__table__.c.published_at, Article.__table__.c.id
        query = (
            select()
            .select_from(fts_entries)
            .join(Article, article_id == fts_entries.c.rowid)
            .where(text("article_search MATCH :match"))
        )
        if in_category:
            listed = select(article_categories.c.article_id).where(
                article_categories.c.category_id == bindparam("category_id", type_=BigInteger),
                article_categories.c.published_at.is_not(None),
            )
            query = query.where(article_id.in_(listed))
    return query.add_columns(article_id.label("article_id"), date.label("published_at")), date, article_id


@lru_cache(maxsize=128)
def tier_statement(
    dialect: str, include: Scope, exclude: tuple[Scope, ...], in_category: bool, split: bool
) -> Select[Any]:
    """The newest ``:depth`` articles of a tier, newest first then by id (columns
    ``article_id``, ``published_at``); built once per shape (decision 23). PostgreSQL: the
    scope's vector ``@@`` each condition's tsquery (``:include``, ``:exclude0`` …); SQLite:
    FTS5 ``MATCH :match``. A category is ``:category_id``.

    ``split``: read in the two parts, at ``(:boundary_at, :boundary_id)``: the recent one,
    and the older one only when the recent one held fewer than ``:depth`` (a one-time
    filter: the database does not start it otherwise).
    """
    matching, date, article_id = _matching(dialect, include, exclude, in_category)
    depth = bindparam("depth", type_=Integer)
    if not split:
        return matching.order_by(date.desc(), article_id.desc()).limit(depth)
    boundary = tuple_(bindparam("boundary_at", type_=date.type), bindparam("boundary_id", type_=BigInteger))
    recent = (
        matching.where(tuple_(date, article_id) >= boundary)
        .order_by(date.desc(), article_id.desc())
        .limit(depth)
        .cte("recent")
    )
    order: tuple[Any, ...] = (date.desc(), article_id.desc())
    if dialect == "postgresql":
        # Collect, then sort: a walk here would be the unbounded one the split avoids.
        order = ((date + literal_column("interval '0'")).desc(), (article_id + 0).desc())
    older = matching.where(tuple_(date, article_id) < boundary).order_by(*order).limit(depth).subquery("older")
    held = select(func.count()).select_from(recent).scalar_subquery()
    both = union_all(
        select(recent.c.article_id, recent.c.published_at),
        select(older.c.article_id, older.c.published_at).where(held < depth),
    ).subquery("parts")
    return select(both.c.article_id).order_by(both.c.published_at.desc(), both.c.article_id.desc()).limit(depth)


@lru_cache(maxsize=2)
def boundary_statement(in_category: bool) -> Select[Any]:
    """The ``:offset``-th newest published article's (published_at, id), of ``:category_id``
    when given: one index range on either database (none when there are fewer)."""
    date: ColumnElement[Any]
    article_id: ColumnElement[Any]
    if in_category:
        links = article_categories
        query = select(links.c.published_at, links.c.article_id).where(
            links.c.category_id == bindparam("category_id", type_=BigInteger), links.c.published_at.is_not(None)
        )
        date, article_id = links.c.published_at, links.c.article_id
    else:
        query = select(Article.published_at, Article.id).where(Article.status == ArticleStatus.PUBLISHED.value)
        date, article_id = Article.__table__.c.published_at, Article.__table__.c.id
    return query.order_by(date.desc(), article_id.desc()).offset(bindparam("offset", type_=Integer)).limit(1)


@lru_cache(maxsize=1)
def rows_statement() -> Select[Any]:
    """What a results page shows of the articles ``:ids`` (published ones only), with the
    last change to any article."""
    changed = select(func.max(Article.updated_at)).scalar_subquery()
    return select(
        Article.id,
        Article.slug,
        Article.title,
        Article.summary,
        Article.body_html,
        Article.image_url,
        Article.published_at,
        categories_column(),
        changed.label("changed_at"),
    ).where(
        Article.id.in_(bindparam("ids", expanding=True)),
        # The index holds published articles only (kept in step in their transactions);
        # this is the rule itself, checked again where the rows are read.
        Article.status == ArticleStatus.PUBLISHED.value,
    )
