"""What every public page's header offers besides the page itself: the category menu (the
categories an admin put in it, in their order) and the public categories search filters by.

Only public categories (``service.articles.categories.is_public``: used by a published
article, or created by an admin for readers), so a writer's draft category never shows its
unreviewed name in a header. One small query, read once per site generation and process:
an admin's change to the menu moves the generation like an article write
(``service.articles.derived.bump_site_generation``), so every page's ETag moves with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.articles.categories import is_public
from service.articles.derived import bump_site_generation, site_generation_of
from service.audit.log import record
from service.db.engine import read_scope
from service.db.models import ArticleStatus, Category, article_counts
from service.errors import InvalidField
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


def current_navigation() -> Navigation:
    """The navigation at the site's generation as the database holds it now, for pages
    rendered outside ``generation_page`` (error pages, the readers' forms): one small query,
    a second when the generation moved since this process last read it."""
    with read_scope() as session:
        return navigation_at(session, site_generation_of(session))


# ---- the admin's side: which categories the menu shows, in which order ------------------------

MAX_MENU_POSITION = 99


@dataclass(frozen=True, slots=True)
class MenuChoice:
    """A category as the console's menu page lists it."""

    id: int
    name: str
    slug: str
    menu_position: int | None
    published: int  # its published articles
    listed: bool  # created by an admin for readers: public before any article uses it

    @property
    def public(self) -> bool:
        """Whether readers see it (service.articles.categories.is_public), so the menu shows it."""
        return self.listed or self.published > 0


def menu_choices(session: Session) -> list[MenuChoice]:
    """Every category, those in the menu first in its order, then the others by name."""
    published = (
        select(article_counts.c.articles)
        .where(
            article_counts.c.category_id == Category.id,
            article_counts.c.status == ArticleStatus.PUBLISHED.value,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Category.id,
            Category.name,
            Category.slug,
            Category.menu_position,
            published.label("published"),
            Category.listed,
        )
    ).all()
    choices = [MenuChoice(r.id, r.name, r.slug, r.menu_position, int(r.published or 0), r.listed) for r in rows]
    return sorted(choices, key=lambda c: (c.menu_position is None, c.menu_position or 0, c.name, c.id))


def set_menu(session: Session, positions: Mapping[int, int]) -> None:
    """Put the categories ``positions`` names (id → place, 1 first) in the menu and take every
    other one out, in the caller's transaction; the site's generation moves, so every public
    page is rendered again with the new menu.

    Raises InvalidField("menu") for an unknown id or a place outside 1..MAX_MENU_POSITION.
    """
    if any(not 1 <= place <= MAX_MENU_POSITION for place in positions.values()):
        raise InvalidField("menu", "menu_place", limit=MAX_MENU_POSITION)
    known = set(session.scalars(select(Category.id).where(Category.id.in_(list(positions)))))
    if known != set(positions):
        raise InvalidField("menu", "unknown_category")
    before = _menu(session)
    session.execute(update(Category).where(Category.menu_position.is_not(None)).values(menu_position=None))
    for category_id, place in positions.items():
        session.execute(update(Category).where(Category.id == category_id).values(menu_position=place))
    record(session, "category.menu", "menu", None, {"menu": before}, {"menu": _menu(session)})
    bump_site_generation(session)


def _menu(session: Session) -> list[str]:
    """The menu as the audit log keeps it: the categories' slugs in their order."""
    in_menu = select(Category.slug).where(Category.menu_position.is_not(None)).order_by(Category.menu_position)
    return list(session.scalars(in_menu))
