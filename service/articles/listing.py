"""The staff list of articles read as plain values: one statement for a page, its categories and its total.

``list_articles`` (service.py) loads ORM objects: an identity map entry, instance state
and a second ``selectin`` statement for the categories of every row. For the API's list
(``GET /api/v1/articles``, twenty articles with their whole bodies) that was most of a
request's CPU; here the page, its categories and the kept total ride in one statement and
come back as rows (ARCHITECTURE.md decision 23; bench/README.md, articles API).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, func, select
from sqlalchemy.orm import Session

from service.articles.derived import count_articles, count_articles_query
from service.articles.service import CONTENT_COLUMNS
from service.db.models import Article, ArticleStatus, Category, article_categories

_articles = Article.__table__
_categories = Category.__table__

# Every column the API shows of an article (service/api/schemas.py, ArticleOut), by name.
LISTED_COLUMNS = tuple(
    _articles.c[name]
    for name in (
        "id",
        "guid",
        "slug",
        *CONTENT_COLUMNS,
        "status",
        "publish_at",
        "published_at",
        "withdrawn_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
    )
)


@dataclass(frozen=True, slots=True)
class ListedCategory:
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class ListedArticle:
    """One article of a page: ``values`` is its first row, with the columns named in
    LISTED_COLUMNS (and the statement's others); ``categories`` are sorted by slug, as the
    ORM relationship sorts them."""

    values: Row[Any]
    categories: list[ListedCategory]


def list_article_page(
    session: Session,
    *,
    status: ArticleStatus | None = None,
    category_slug: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ListedArticle], int]:
    """A page of articles, newest first (as ``list_articles``), and the exact total of matches.

    One statement (:func:`_page_statement`). A page past the end has no row to carry the
    total: it is then read on its own.
    """
    params = {"status": status.value if status else None, "category_slug": category_slug}
    statement = _page_statement(status is not None, category_slug is not None)
    articles: list[ListedArticle] = []
    matches: int | None = None
    for row in session.execute(statement, {**params, "limit": limit, "offset": offset}):
        matches = row.total
        if not articles or articles[-1].values.id != row.id:
            articles.append(ListedArticle(row, []))
        if row.category_slug is not None:
            articles[-1].categories.append(ListedCategory(row.category_name, row.category_slug))
    if matches is None:
        matches = count_articles(session, status=params["status"], category_slug=category_slug)
    return articles, int(matches)


@lru_cache(maxsize=4)
def _page_statement(by_status: bool, by_category: bool) -> Select[Any]:
    """The page as a subquery (a range of ``ix_articles_recency``), joined to its categories
    (one row per article and category, one with NULLs for an article without any), with the
    total from ``article_counts`` as a column; bound parameters ``status``,
    ``category_slug``, ``limit``, ``offset``.

    Built once per filter combination: building a statement and its cache key anew took
    more CPU than running it (about 1.5 ms a request; bench/README.md, articles API).
    """
    recency = func.coalesce(_articles.c.published_at, _articles.c.created_at)
    page_query = select(*LISTED_COLUMNS, recency.label("listed_at"))
    if by_status:
        page_query = page_query.where(_articles.c.status == bindparam("status"))
    if by_category:
        page_query = page_query.where(
            exists()
            .where(article_categories.c.article_id == _articles.c.id)
            .where(_categories.c.id == article_categories.c.category_id)
            .where(_categories.c.slug == bindparam("category_slug"))
        )
    page = (
        page_query.order_by(recency.desc(), _articles.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    total = count_articles_query(
        status=bindparam("status") if by_status else None,
        category_slug=bindparam("category_slug") if by_category else None,
    )
    return (
        select(
            *(page.c[column.key] for column in LISTED_COLUMNS),
            _categories.c.name.label("category_name"),
            _categories.c.slug.label("category_slug"),
            total.scalar_subquery().label("total"),
        )
        .select_from(page)
        .outerjoin(article_categories, article_categories.c.article_id == page.c.id)
        .outerjoin(_categories, _categories.c.id == article_categories.c.category_id)
        .order_by(page.c.listed_at.desc(), page.c.id.desc(), _categories.c.slug)
    )
