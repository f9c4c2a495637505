"""Where an article lives on the public site."""

from __future__ import annotations

from service.db.models import Article


def article_url(article: Article, base_url: str) -> str:
    """The public page of an article (what feed items and announcements link to).

    ``base_url`` is ``BANTIN_BASE_URL`` (no trailing slash); the slug follows the title,
    and an old slug redirects to the current one.
    """
    return f"{base_url}/articles/{article.id}/{article.slug}"
