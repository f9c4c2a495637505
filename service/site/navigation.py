"""What every public page's header offers besides the page itself: the category menu (the
categories an admin put in it, in their order) and the public categories search filters by.

Only public categories: those a published article uses (``article_counts``, kept in step
with every article write, decision 19), so a writer's draft category never shows its
unreviewed name in a header. One small query, read once per site generation and process:
an admin's change to the menu moves the generation like an article write
(``service.articles.derived.bump_site_generation``), so every page's ETag moves with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session

from service.db.models import ArticleStatus, Category, article_counts
from service.site.pages import CategoryLink


@dataclass(frozen=True, slots=True)
class PublicCategory:
    id: int
    slug: str
    name: str
    menu_position: int | None


@dataclass(frozen=True, slots=True)
class Navigation:
    """The menu (in the admin's order) and every public category (by name)."""

    menu: tuple[CategoryLink, ...]
    categories: tuple[PublicCategory, ...]

    def ids_by_slug(self) -> dict[str, int]:
        """Slug → id of every public category (what search's category filter accepts)."""
        return {c.slug: c.id for c in self.categories}


EMPTY = Navigation((), ())


def is_public() -> ColumnElement[bool]:
    """The condition on ``Category`` that makes it public: a published article uses it."""
    return exists().where(
        and_(
            article_counts.c.category_id == Category.id,
            article_counts.c.status == ArticleStatus.PUBLISHED.value,
            article_counts.c.articles > 0,
        )
    )


def read_navigation(session: Session) -> Navigation:
    """The menu and the public categories as the database holds them now (one query)."""
    rows = session.execute(
        select(Category.id, Category.slug, Category.name, Category.menu_position)
        .where(is_public())
        .order_by(Category.name, Category.id)
    ).all()
    categories = tuple(PublicCategory(r.id, r.slug, r.name, r.menu_position) for r in rows)
    placed = sorted((c for c in categories if c.menu_position is not None), key=lambda c: (c.menu_position, c.name))
    return Navigation(tuple(CategoryLink(c.slug, c.name) for c in placed), categories)


# (generation, what was read at it): one pair, replaced whole (an atomic assignment), so a
# thread that read an older generation late can only cause one more read, never a wrong menu.
_held: tuple[int, Navigation] | None = None


def navigation_at(session: Session, generation: int) -> Navigation:
    """The navigation at the site's ``generation``, read through ``session`` only the first
    time this process asks for that generation."""
    global _held
    held = _held
    if held is not None and held[0] == generation:
        return held[1]
    navigation = read_navigation(session)
    _held = (generation, navigation)
    return navigation


def last_navigation() -> Navigation:
    """The navigation this process read last (pages rendered without a database session:
    error pages); empty before any."""
    held = _held
    return EMPTY if held is None else held[1]
