"""Render the feeds of a scope from the database and store the bytes."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from config.settings import Settings
from service.articles.urls import article_url
from service.db.locks import transaction_lock
from service.db.models import Article, ArticleStatus, Category, FeedDocument, MediaFile
from service.feeds.documents import announce_changes, scope_documents, store_document
from service.feeds.model import FeedCategory, FeedEnclosure, FeedItem, FeedSpec
from service.feeds.render import render_within
from service.feeds.scopes import FORMATS, SITE, category_slug
from service.feeds.urls import feed_path, hub_url
from service.media.store import media_for_urls, media_url
from service.observability.metrics import FEED_RENDER
from service.text import resolve_references

# The columns a feed item is made of (article_item, article_url): the rest of a row is not read.
ITEM_COLUMNS = (
    Article.id,
    Article.guid,
    Article.slug,
    Article.title,
    Article.summary,
    Article.body_html,
    Article.author,
    Article.image_url,
    Article.published_at,
    Article.updated_at,
)
# Bodies kept resolved for feeds, per process: the site's items and a category's, twice over.
FEED_HTML_CACHE_SIZE = 128


def spec_for(scope: str, category: Category | None, settings: Settings) -> FeedSpec:
    """The FeedSpec of ``scope``: site title (plus the category's name), links under BANTIN_BASE_URL, the hub."""
    title = settings.site_title if category is None else f"{settings.site_title} – {category.name}"
    return FeedSpec(
        title=title,
        description=settings.site_description,
        home_url=f"{settings.base_url}/",
        base_url=settings.base_url,
        path=feed_path(scope),
        author=settings.site_author,
        zone_name=settings.timezone,
        hubs=(hub_url(settings.base_url),),
    )


@lru_cache(maxsize=FEED_HTML_CACHE_SIZE)
def feed_html(body_html: str, url: str) -> str:
    """An article's body as a feed carries it: references resolved against the article's URL,
    fragments included. Kept per process: an event re-renders the site's and each category's
    feed from mostly the same articles, so each body would be parsed once per scope."""
    return resolve_references(body_html, url, keep_fragments=False)


def article_item(article: Article, base_url: str, cover: MediaFile | None = None) -> FeedItem:
    """A published article as a FeedItem; links in its body are resolved against the article's URL.

    ``updated`` is never before ``published``. ``cover`` is the stored image its
    ``image_url`` names, if any: it becomes the item's enclosure. The article must be
    published (AssertionError otherwise).
    """
    assert article.published_at is not None
    url = article_url(article, base_url)
    return FeedItem(
        guid=article.guid,
        url=url,
        title=article.title,
        # A reader resolves the feed's HTML against the feed's address: in-page links
        # (#muc-2) get the article's address in front.
        content_html=feed_html(article.body_html, url),
        published=article.published_at,
        updated=max(article.updated_at, article.published_at),
        summary=article.summary,
        author=article.author,
        image_url=article.image_url,
        enclosure=FeedEnclosure(media_url(cover, base_url), cover.bytes, cover.content_type) if cover else None,
        categories=tuple(FeedCategory(c.name, c.slug) for c in article.categories),
    )


def newest_items(session: Session, category: Category | None, limit: int, base_url: str) -> list[FeedItem]:
    """The ``limit`` newest published articles of ``category`` (None: the whole site) as FeedItems, newest first."""
    query = select(Article).options(load_only(*ITEM_COLUMNS)).where(Article.status == ArticleStatus.PUBLISHED)
    if category is not None:
        query = query.where(Article.categories.any(Category.id == category.id))
    articles = session.scalars(query.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)).all()
    covers = media_for_urls(session, (a.image_url for a in articles), base_url)
    return [article_item(a, base_url, covers.get(a.image_url or "")) for a in articles]


def render_scope(session: Session, scope: str, now: datetime, settings: Settings) -> list[str]:
    """Re-render the three formats of ``scope``; returns the formats whose bytes changed.

    A category scope whose category no longer exists is left as it is.
    """
    # Two workers rendering one scope must not let the older read win the last write:
    # articles are read only once the scope's lock is held.
    transaction_lock(session, f"feed:{scope}")
    category = None
    slug = category_slug(scope)
    if slug is not None:
        category = session.scalars(select(Category).where(Category.slug == slug)).one_or_none()
        if category is None:
            return []
    spec = spec_for(scope, category, settings)
    items = newest_items(session, category, settings.feed_items, settings.base_url)
    known = scope_documents(session, scope)
    changed = []
    for fmt in FORMATS:
        with FEED_RENDER.labels(fmt).time():
            body = render_within(fmt, spec, items, settings.feed_max_bytes)
        if store_document(session, scope, fmt, body, now, known):
            changed.append(fmt)
    if changed:
        announce_changes(session)
    return changed


def ensure_site_feeds(session: Session, now: datetime, settings: Settings) -> None:
    """On a fresh install, render the (empty) site feeds so they answer 200 at once."""
    if session.get(FeedDocument, (SITE, "rss")) is None:
        render_scope(session, SITE, now, settings)
