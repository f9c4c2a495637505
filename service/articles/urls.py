"""Where an article lives on the public site."""

from __future__ import annotations

from service.db.models import Article


def article_url(article: Article, base_url: str) -> str:
    """The public page of an article (what feed items and announcements link to).

    ``base_url`` is ``BANTIN_BASE_URL`` (no trailing slash); the slug follows the title,
    and an old slug redirects to the current one.
    """
    return article_url_for(base_url, article.id, article.slug)


def article_url_for(base_url: str, article_id: int, slug: str) -> str:
    """:func:`article_url` from the id and slug alone (pages read plain values, not rows)."""
    return f"{base_url}/articles/{article_id}/{slug}"
