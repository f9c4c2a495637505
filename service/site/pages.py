"""Reads behind the public pages: listings (keyset-paged), one article, what changed last.

Every query is indexed and bounded (LIMIT), so a page costs the same with a hundred or
a hundred thousand articles. Results are frozen values, never ORM objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.orm import Session

from service.db.models import Article, ArticleStatus, Category, article_categories
from service.errors import DomainError, NotFound

# Keyset cursors are article ids, which the database holds as signed 64-bit integers.
MAX_ID = 2**63 - 1


class Withdrawn(DomainError):
    """The article existed and was taken down: 410 Gone, not 404."""


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
    source_name: str | None
    source_url: str | None
    published_at: datetime
    updated_at: datetime
    categories: tuple[CategoryLink, ...]


def parse_cursor(raw: str | None) -> int | None:
    """``?before=`` as an article id; anything else is NotFound (a page that does not exist)."""
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
        raise NotFound(f"no listing page before {raw[:40]!r}")
    return int(raw)


def category_by_slug(session: Session, slug: str) -> CategoryLink:
    row = session.execute(select(Category.slug, Category.name).where(Category.slug == slug)).one_or_none()
    if row is None:
        raise NotFound(f"no category {slug[:200]!r}")
    return CategoryLink(row.slug, row.name)


def latest(session: Session, *, limit: int, category: CategoryLink | None = None, before: int | None = None) -> Listing:
    """The newest published articles (of one category), ``limit`` per page, older than ``before``.

    Keyset paging on (published_at, id): every page, however deep, is one index range scan.
    """
    query = select(
        Article.id,
        Article.slug,
        Article.title,
        Article.summary,
        Article.image_url,
        Article.published_at,
        Article.updated_at,
    ).where(Article.status == ArticleStatus.PUBLISHED.value)
    if category is not None:
        in_category = (
            select(article_categories.c.article_id)
            .join(Category, Category.id == article_categories.c.category_id)
            .where(Category.slug == category.slug)
        )
        query = query.where(Article.id.in_(in_category))
    if before is not None:
        anchor = session.execute(
            select(Article.published_at).where(Article.id == before, Article.published_at.is_not(None))
        ).scalar_one_or_none()
        if anchor is None:
            raise NotFound(f"no listing page before article {before}")
        query = query.where(
            tuple_(Article.published_at, Article.id)
            < tuple_(literal(anchor, Article.published_at.type), literal(before))
        )
    rows = session.execute(query.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit + 1)).all()
    shown = rows[:limit]
    categories = categories_of(session, [row.id for row in shown])
    cards = tuple(
        Card(
            id=row.id,
            slug=row.slug,
            title=row.title,
            summary=row.summary,
            image_url=row.image_url,
            published_at=row.published_at,
            updated_at=row.updated_at,
            categories=categories.get(row.id, ()),
        )
        for row in shown
    )
    older = shown[-1].id if len(rows) > limit else None
    return Listing(cards=cards, older=older, before=before, category=category)


def categories_of(session: Session, article_ids: Sequence[int]) -> dict[int, tuple[CategoryLink, ...]]:
    """Each article's categories, by slug; one query for a whole page."""
    if not article_ids:
        return {}
    rows = session.execute(
        select(article_categories.c.article_id, Category.slug, Category.name)
        .join(Category, Category.id == article_categories.c.category_id)
        .where(article_categories.c.article_id.in_(article_ids))
        .order_by(article_categories.c.article_id, Category.slug)
    ).all()
    found: dict[int, list[CategoryLink]] = defaultdict(list)
    for row in rows:
        found[row.article_id].append(CategoryLink(row.slug, row.name))
    return {article_id: tuple(links) for article_id, links in found.items()}


def content_changed_at(session: Session) -> datetime | None:
    """The last change to any article: a listing cannot have changed after it.

    Covers what leaves a listing too (a withdrawal moves ``updated_at``), which the
    newest date among the listed items would not.
    """
    return session.scalar(select(func.max(Article.updated_at)))


def article_view(session: Session, article_id: int, now: datetime) -> ArticleView:
    """The article as its page shows it.

    Raises NotFound for drafts, unknown ids and scheduled articles before their time,
    Withdrawn for withdrawn ones. A scheduled article whose time has come is shown even
    if beat has not flipped it yet, so its announced link never answers 404.
    """
    if not 1 <= article_id <= MAX_ID:
        raise NotFound(f"article {article_id} does not exist")
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"article {article_id} does not exist")
    if article.status == ArticleStatus.WITHDRAWN:
        raise Withdrawn(f"article {article_id} was withdrawn")
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
        source_name=article.source_name,
        source_url=article.source_url,
        published_at=published_at,
        updated_at=article.updated_at,
        categories=tuple(CategoryLink(c.slug, c.name) for c in article.categories),
    )
