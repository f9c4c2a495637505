"""Render the feeds of a scope from the database and store the bytes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.categories import is_public
from service.articles.urls import article_url_for
from service.db.locks import transaction_lock
from service.db.models import Article, ArticleStatus, Category, FeedDocument, MediaFile, article_categories
from service.feeds.corrections import correction_items, notices_of, with_notices
from service.feeds.documents import (
    Compressed,
    announce_changes,
    has_variants,
    scope_documents,
    store_document,
    store_variants,
    unexport_after_commit,
)
from service.feeds.model import FeedCategory, FeedEnclosure, FeedItem, FeedSpec
from service.feeds.render import render_within
from service.feeds.scopes import CORRECTIONS, FORMATS, SITE, category_slug
from service.feeds.urls import feed_path, hub_url
from service.i18n import gettext, use_language
from service.media.store import media_for_urls, media_url
from service.observability.metrics import FEED_RENDER
from service.text import resolve_references

# The columns a feed item is made of (article_item): the rest of an article's row is not read.
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
    if scope == CORRECTIONS:
        with use_language("vi"):
            title = f"{settings.site_title} – {gettext('Cải chính')}"
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


class ArticleFields(Protocol):
    """What a feed item is made of: an Article, or a row of ITEM_COLUMNS."""

    id: int
    guid: str
    slug: str
    title: str
    summary: str | None
    body_html: str
    author: str | None
    image_url: str | None
    published_at: datetime | None
    updated_at: datetime


def article_item(
    article: ArticleFields,
    base_url: str,
    cover: MediaFile | None = None,
    categories: tuple[FeedCategory, ...] | None = None,
) -> FeedItem:
    """A published article as a FeedItem; links in its body are resolved against the article's URL.

    ``updated`` is never before ``published``. ``cover`` is the stored image its
    ``image_url`` names, if any: it becomes the item's enclosure. ``categories``: the
    article's, by slug (None: read from an Article's ``categories``). The article must be
    published (AssertionError otherwise).
    """
    assert article.published_at is not None
    url = article_url_for(base_url, article.id, article.slug)
    if categories is None:
        assert isinstance(article, Article)
        categories = tuple(FeedCategory(c.name, c.slug) for c in article.categories)
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
        categories=categories,
    )


def newest_items(
    session: Session, category: Category | None, limit: int, base_url: str, zone: ZoneInfo | None = None
) -> list[FeedItem]:
    """The ``limit`` newest published articles of ``category`` (None: the whole site) as FeedItems, newest first;
    a corrected article's content starts with its notices (in ``zone``'s dates; decision 0043).

    Plain rows, not Article objects: two statements (the articles, then their categories)
    where the ORM's identity map and relationship loading cost a render ~2.5 ms per scope.
    """
    query = select(*ITEM_COLUMNS).where(Article.status == ArticleStatus.PUBLISHED)
    if category is not None:
        query = query.where(Article.categories.any(Category.id == category.id))
    rows = session.execute(query.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)).all()
    covers = media_for_urls(session, (row.image_url for row in rows), base_url)
    labels = categories_of(session, [row.id for row in rows])
    items = [article_item(row, base_url, covers.get(row.image_url or ""), labels.get(row.id, ())) for row in rows]
    notices = notices_of(session, [row.id for row in rows]) if zone is not None else {}
    return [
        replace(item, content_html=with_notices(item.content_html or "", notices[row.id], zone))
        if zone is not None and row.id in notices
        else item
        for item, row in zip(items, rows, strict=True)
    ]


def categories_of(session: Session, article_ids: list[int]) -> dict[int, tuple[FeedCategory, ...]]:
    """Each article's categories by slug (as ``Article.categories`` orders them), in one query."""
    if not article_ids:
        return {}
    link = article_categories.c
    query = (
        select(link.article_id, Category.name, Category.slug)
        .join(Category, Category.id == link.category_id)
        .where(link.article_id.in_(article_ids))
        .order_by(link.article_id, Category.slug)
    )
    found: dict[int, list[FeedCategory]] = {}
    for article_id, name, slug in session.execute(query):
        found.setdefault(article_id, []).append(FeedCategory(name, slug))
    return {article_id: tuple(labels) for article_id, labels in found.items()}


def render_scope(session: Session, scope: str, now: datetime, settings: Settings) -> list[str]:
    """Re-render the three formats of ``scope`` with their variants; returns the formats whose bytes changed.

    A category scope whose category does not exist or is not public renders nothing.
    """
    return render_identity(session, scope, now, settings, compress=True).changed


@dataclass(frozen=True)
class RenderedScope:
    """What :func:`render_identity` did: the formats whose bytes changed, and the identity
    bytes, by format, whose compressed variants are still to be stored (:func:`store_scope_variants`)."""

    changed: list[str]
    uncompressed: dict[str, bytes]


def render_identity(
    session: Session, scope: str, now: datetime, settings: Settings, *, compress: bool = False
) -> RenderedScope:
    """Re-render the three formats of ``scope``; without ``compress``, store the identity
    bytes alone, so the commit (and its NOTIFY) need not wait for gzip and brotli.

    Compressing a scope's three documents takes longer than rendering them (gzip and
    brotli of ~240 kB of article text: ~15 ms a format), and a new item reaches every
    reader as soon as the identity bytes are served, to clients that accept a compressed
    coding too (decision 24).
    """
    # Two workers rendering one scope must not let the older read win the last write:
    # articles are read only once the scope's lock is held.
    transaction_lock(session, f"feed:{scope}")
    category = None
    slug = category_slug(scope)
    if slug is not None:
        # Only a public category has feeds: one that only drafts use has an unreviewed name
        # (service/articles/categories.py); what it stored while public is no longer served.
        category = session.scalars(select(Category).where(Category.slug == slug, is_public())).one_or_none()
        if category is None:
            unexport_after_commit(session, scope)
            return RenderedScope([], {})
    spec = spec_for(scope, category, settings)
    if scope == CORRECTIONS:
        items = correction_items(session, settings.feed_items, settings.base_url, settings.zone)
    else:
        items = newest_items(session, category, settings.feed_items, settings.base_url, settings.zone)
    known = scope_documents(session, scope)
    changed, uncompressed = [], {}
    for fmt in FORMATS:
        with FEED_RENDER.labels(fmt).time():
            body = render_within(fmt, spec, items, settings.feed_max_bytes)
        doc = known.get(fmt)
        complete = doc is not None and has_variants(doc)
        if store_document(session, scope, fmt, body, now, known, compress=compress):
            changed.append(fmt)
            complete = compress
        if not complete:
            uncompressed[fmt] = body
    if changed:
        announce_changes(session)
    return RenderedScope(changed, uncompressed)


def store_scope_variants(session: Session, scope: str, uncompressed: dict[str, bytes]) -> None:
    """Store the compressed variants of the identity bytes :func:`render_identity` left
    without them, where those bytes are still the stored ones; announce what was added.

    Under the scope's lock, like the render: without it, this transaction and the next
    event's render of the same scope updated the same rows in different orders and
    PostgreSQL broke the deadlock by failing one of them (seen with varied article text,
    whose compression keeps this transaction open longer).
    """
    compressed = {fmt: Compressed.of(body) for fmt, body in uncompressed.items()}  # before the lock: it is slow
    transaction_lock(session, f"feed:{scope}")
    added = [fmt for fmt, variants in compressed.items() if store_variants(session, scope, fmt, variants)]
    if added:
        announce_changes(session)


def ensure_site_feeds(session: Session, now: datetime, settings: Settings) -> None:
    """On a fresh install (or the first start after decision 0043), render the (empty) site
    and corrections feeds so they answer 200 at once."""
    for scope in (SITE, CORRECTIONS):
        if session.get(FeedDocument, (scope, "rss")) is None:
            render_scope(session, scope, now, settings)
