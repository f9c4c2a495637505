"""Rows derived from articles, kept in step in the transaction that changes an article.

Four things follow an article's status, ``published_at``, categories and words:

- ``article_counts``: articles per (status, category), category 0 for all of a status,
  so the staff list's exact ``total`` is a look-up instead of a ``count(*)`` over every
  matching row (27 ms at 100,000 articles; bench/README.md, articles API);
- ``article_categories.published_at``: the article's ``published_at`` while it is
  published, else NULL, so a category page is one range of
  ``ix_article_categories_listing`` however small the category;
- ``site_generation``: a number that grows with every article write. API processes
  compare it with what they saw, like the stored documents' versions, and public pages'
  ETags name it, so a page's 304 is decided in memory (``service/api/documents.py``);
- the search index's entry (``service/search/index.py``): the article's words while it
  is published, none otherwise, so search never finds what readers may not read and
  finds a correction as soon as it is committed (decision 33).

Every domain function that writes an article calls :func:`keep_in_step` after its
change (ARCHITECTURE.md decision 19). Concurrent writers wait for each other on the
counter rows and the generation row until commit (row locks, taken in one order:
counters sorted, then the generation); a newsroom writes a few articles a minute.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import BindParameter, Select, func, literal, select, text, update
from sqlalchemy.orm import Session

from service.db.models import Article, ArticleStatus, Category, article_categories, article_counts, site_generation
from service.db.statements import insert_adding, insert_or_increment
from service.feeds.documents import CHANGES_CHANNEL
from service.search import index as search_index

# article_counts' category for "every category, and none".
ALL_CATEGORIES = 0
GENERATION_ROW = 1


@dataclass(frozen=True, slots=True)
class Counted:
    """What an article adds to ``article_counts``: its status and its categories' ids."""

    status: str
    category_ids: frozenset[int]


def counted(article: Article) -> Counted:
    """The article's status and category ids as they are now (categories must be loaded or loadable)."""
    return Counted(article.status, frozenset(category.id for category in article.categories))


def keep_in_step(session: Session, article: Article, before: Counted | None) -> None:
    """Bring the derived rows in step with ``article`` after a change; ``before``: what
    :func:`counted` returned before the change (None for a new article).

    Flushes first, so the article and its category links are rows. Five statements
    at most: the counter deltas (one executemany), the ``published_at`` copy on its
    category links, the search entry (one upsert on PostgreSQL; a delete and an insert
    in SQLite's FTS5), the generation (with a PostgreSQL NOTIFY, delivered on commit).
    """
    session.flush()
    after = counted(article)
    deltas: Counter[tuple[str, int]] = Counter()
    if before is not None:
        for key in _keys(before):
            deltas[key] -= 1
    for key in _keys(after):
        deltas[key] += 1
    moves = [{"status": s, "category_id": c, "articles": n} for (s, c), n in sorted(deltas.items()) if n]
    if moves:
        session.execute(insert_adding(session, article_counts, ("status", "category_id"), "articles"), moves)
    listed_at = article.published_at if article.status == ArticleStatus.PUBLISHED else None
    session.execute(
        update(article_categories)
        .where(article_categories.c.article_id == article.id)
        .values(published_at=listed_at)
        .execution_options(synchronize_session=False)
    )
    was_published = before is not None and before.status == ArticleStatus.PUBLISHED
    search_index.keep_entry(session, article, was_published)
    bump_site_generation(session)


def _keys(state: Counted) -> list[tuple[str, int]]:
    return [(state.status, ALL_CATEGORIES), *((state.status, c) for c in state.category_ids)]


def bump_site_generation(session: Session) -> None:
    """Add one to the site's generation and, on PostgreSQL, tell listening API processes
    on commit (NOTIFY is transactional: a rolled-back change announces nothing).

    A missing row (a database emptied or re-created under running API processes) starts
    at a random point, so a process never takes a page it rendered from the old data for
    the same generation of the new.
    """
    session.execute(
        insert_or_increment(session, site_generation, ("id",), "generation"),
        {"id": GENERATION_ROW, "generation": secrets.randbelow(2**52) + 1},
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANGES_CHANNEL})


def count_articles(session: Session, *, status: str | None = None, category_slug: str | None = None) -> int:
    """How many articles have ``status`` (any when None) and ``category_slug`` (any when None), exactly.

    One primary-key range of ``article_counts``: at most one row per status. An unknown
    slug counts 0.
    """
    return int(session.scalar(count_articles_query(status=status, category_slug=category_slug)) or 0)


def count_articles_query(
    *, status: str | BindParameter[str] | None = None, category_slug: str | BindParameter[str] | None = None
) -> Select[tuple[int]]:
    """The statement :func:`count_articles` runs (one row, one column); the filters may be
    bound parameters, for a statement built once (service/articles/listing.py)."""
    query = select(func.coalesce(func.sum(article_counts.c.articles), 0))
    if category_slug is None:
        query = query.where(article_counts.c.category_id == ALL_CATEGORIES)
    else:
        query = query.where(
            article_counts.c.category_id == select(Category.id).where(Category.slug == category_slug).scalar_subquery()
        )
    if status is not None:
        query = query.where(article_counts.c.status == status)
    return query


def recount(session: Session) -> None:
    """Rebuild ``article_counts``, the ``published_at`` copy and the search index from the
    articles themselves.

    For rows written around the domain functions (the benchmarks' bulk seeds, a restore
    from a dump); the migration that introduced them fills them the same way. Takes the
    whole tables' locks in effect: not for a live site under writes.
    """
    session.execute(article_counts.delete())
    session.execute(
        article_counts.insert().from_select(
            ["status", "category_id", "articles"],
            select(Article.status, literal(ALL_CATEGORIES), func.count())
            .group_by(Article.status)
            .union_all(
                select(Article.status, article_categories.c.category_id, func.count())
                .join(article_categories, article_categories.c.article_id == Article.id)
                .group_by(Article.status, article_categories.c.category_id)
            ),
        )
    )
    session.execute(
        update(article_categories).values(
            published_at=select(Article.published_at)
            .where(Article.id == article_categories.c.article_id, Article.status == ArticleStatus.PUBLISHED.value)
            .scalar_subquery()
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # Every copied date just changed: plan category pages by the new values at once
        # rather than after autovacuum's next look (allowed inside a transaction).
        session.execute(text("ANALYZE article_categories, article_counts"))
    search_index.rebuild(session)
    bump_site_generation(session)


def site_generation_of(session: Session) -> int:
    """The site's generation as this transaction sees it (0 before any article was written)."""
    return int(session.scalar(select(func.coalesce(func.max(site_generation.c.generation), 0))) or 0)
