"""Which categories readers see: the one definition every public list uses.

A category is created the first time an article names it, draft or not, so its name is
a writer's unreviewed text until an article in it is published. A category is
**public** when a published article uses it (``article_counts`` holds a positive count
for it under ``published``: kept in step with every article write, decision 19), or
when an admin created it for readers (``categories.listed``, ``bantin categories
create``). Only public categories appear where a reader looks: the sign-up and
preferences pages (and what their forms accept), category pages and their feeds, the
sitemap, WebSub topics, the Telegram keyboard (and its buttons' callbacks). A category
whose last published article is withdrawn stops being public.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from service.audit.log import record
from service.db.models import ArticleStatus, Category, article_counts
from service.db.statements import insert_ignoring_duplicates
from service.text import slugify_vi


@dataclass(frozen=True, slots=True)
class PublicCategory:
    id: int
    slug: str
    name: str


def is_public() -> ColumnElement[bool]:
    """The condition on ``Category`` that makes it public (a primary-key probe of ``article_counts``)."""
    published = exists().where(
        and_(
            article_counts.c.category_id == Category.id,
            article_counts.c.status == ArticleStatus.PUBLISHED.value,
            article_counts.c.articles > 0,
        )
    )
    return or_(Category.listed.is_(True), published)


def public_categories(session: Session, limit: int | None = None) -> list[PublicCategory]:
    """The public categories by name (then id), at most ``limit``."""
    query = select(Category.id, Category.slug, Category.name).where(is_public()).order_by(Category.name, Category.id)
    if limit is not None:
        query = query.limit(limit)
    return [PublicCategory(row.id, row.slug, row.name) for row in session.execute(query)]


def public_category(
    session: Session, *, slug: str | None = None, category_id: int | None = None
) -> PublicCategory | None:
    """The public category with this slug (or id); None when there is none or it is not public."""
    query = select(Category.id, Category.slug, Category.name).where(is_public())
    query = query.where(Category.slug == slug) if slug is not None else query.where(Category.id == category_id)
    row = session.execute(query).one_or_none()
    return None if row is None else PublicCategory(row.id, row.slug, row.name)


def public_slugs(session: Session, slugs: Iterable[str], kept: Iterable[str] = ()) -> list[str]:
    """The slugs among ``slugs`` that name a public category or are in ``kept`` (what a reader
    chose while it was public), in the given order, each once."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        return []
    allowed = set(session.scalars(select(Category.slug).where(Category.slug.in_(wanted), is_public())))
    allowed |= set(kept) & set(wanted)
    return [slug for slug in wanted if slug in allowed]


def create_listed_category(session: Session, name: str, now: datetime) -> Category:
    """The category ``name`` (created if missing), listed for readers from now on.

    ``name`` is validated already (the article schema's category rules). Concurrency-safe
    like an article's categories: insert ignoring a duplicate slug, then mark and read.
    """
    slug = slugify_vi(name)
    session.execute(insert_ignoring_duplicates(session, Category), [{"name": name, "slug": slug, "created_at": now}])
    session.execute(update(Category).where(Category.slug == slug).values(listed=True))
    category = session.scalars(select(Category).where(Category.slug == slug)).one()
    record(session, "category.list", "category", category.id, None, {"name": category.name, "slug": slug}, now)
    return category
