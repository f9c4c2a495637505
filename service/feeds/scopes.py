"""A feed scope names a set of articles: the whole site, or one category."""

from __future__ import annotations

from collections.abc import Iterable

SITE = "site"
CATEGORY_PREFIX = "category:"
FORMATS = ("rss", "atom", "json")
# The corrections (/cai-chinh) have feeds of their own (decision 0043).
CORRECTIONS = "corrections"
# The anniversary calendar (/calendar.ics) is stored and served like a feed, under this scope.
CALENDAR = "calendar"


def category_scope(slug: str) -> str:
    """The scope of a category's feeds: ``category:<slug>``."""
    return f"{CATEGORY_PREFIX}{slug}"


def category_slug(scope: str) -> str | None:
    """The category slug of a category scope; None for any other scope."""
    return scope[len(CATEGORY_PREFIX) :] if scope.startswith(CATEGORY_PREFIX) else None


def scopes_for(category_slugs: Iterable[str]) -> list[str]:
    """The site feed plus one feed per category, each once, in a stable order."""
    return [SITE, *sorted({category_scope(slug) for slug in category_slugs})]
