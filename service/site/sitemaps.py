"""Sitemaps (sitemaps.org protocol 0.9) and the Google News sitemap.

``/sitemap.xml`` is always an index: one file for the home and category pages, one per
block of article ids (``BANTIN_SITEMAP_URLS_PER_FILE``, at most the protocol's 50,000
URLs), and the news sitemap. Blocks are id ranges rather than offsets, so an article
never moves between files and old files stay byte-identical (and cacheable).
The news sitemap lists articles published in the last two days, at most 1,000 — the
limits of Google's News sitemap guidelines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.articles.categories import is_public
from service.db.models import Article, ArticleCorrection, ArticleStatus, Category, article_categories
from service.errors import NotFound

NEWS_WINDOW = timedelta(days=2)
NEWS_MAX_URLS = 1000
_PUBLISHED = ArticleStatus.PUBLISHED.value


@dataclass(frozen=True, slots=True)
class Entry:
    loc: str
    lastmod: datetime | None


@dataclass(frozen=True, slots=True)
class NewsItem:
    loc: str
    title: str
    published_at: datetime


def index_entries(session: Session, base_url: str, per_file: int) -> list[Entry]:
    """The files of the sitemap index, each with the last change of what it lists."""
    changed = session.scalar(select(func.max(Article.updated_at)).where(Article.status == _PUBLISHED))
    entries = [Entry(f"{base_url}/sitemaps/pages.xml", changed)]
    block = ((Article.id - 1) // per_file).label("block")
    rows = session.execute(
        select(block, func.max(Article.updated_at).label("lastmod"))
        .where(Article.status == _PUBLISHED)
        .group_by("block")
        .order_by("block")
    ).all()
    entries += [Entry(f"{base_url}/sitemaps/articles-{int(row.block) + 1}.xml", row.lastmod) for row in rows]
    entries.append(Entry(f"{base_url}/sitemaps/news.xml", changed))
    return entries


def page_entries(session: Session, base_url: str, per_file: int) -> list[Entry]:
    """The home page, ``/cai-chinh`` once there is a correction, and every public category
    (``service/articles/categories.py``), up to the file's limit; a category's lastmod is its
    newest published article's change, else its creation."""
    changed = session.scalar(select(func.max(Article.updated_at)).where(Article.status == _PUBLISHED))
    newest = (
        select(func.max(Article.updated_at))
        .join(article_categories, article_categories.c.article_id == Article.id)
        .where(article_categories.c.category_id == Category.id, Article.status == _PUBLISHED)
        .scalar_subquery()
    )
    corrected = session.scalar(select(func.max(ArticleCorrection.published_at)))
    # /cai-chinh (decision 0043): listed once there is a correction, dated by the newest.
    fixed = [Entry(f"{base_url}/", changed)] + ([Entry(f"{base_url}/cai-chinh", corrected)] if corrected else [])
    rows = session.execute(
        select(Category.slug, func.coalesce(newest, Category.created_at).label("lastmod"))
        .where(is_public())
        .order_by(Category.slug)
        .limit(per_file - len(fixed))
    ).all()
    return fixed + [Entry(f"{base_url}/categories/{row.slug}", row.lastmod) for row in rows]


def article_entries(session: Session, base_url: str, per_file: int, number: int) -> list[Entry]:
    """File ``number`` (from 1): published articles with ids in ((number-1)·per_file, number·per_file]."""
    if number < 1 or (number - 1) * per_file >= 2**63 - 1:
        raise NotFound(f"no sitemap file {number}")
    low, high = (number - 1) * per_file, number * per_file
    rows = session.execute(
        select(Article.id, Article.slug, Article.updated_at)
        .where(Article.status == _PUBLISHED, Article.id > low, Article.id <= high)
        .order_by(Article.id)
    ).all()
    if not rows:
        raise NotFound(f"sitemap file {number} lists nothing")
    return [Entry(f"{base_url}/articles/{row.id}/{row.slug}", row.updated_at) for row in rows]


def news_items(session: Session, base_url: str, now: datetime) -> list[NewsItem]:
    """Articles published in the last two days, newest first (Google News sitemap)."""
    rows = session.execute(
        select(Article.id, Article.slug, Article.title, Article.published_at)
        .where(Article.status == _PUBLISHED, Article.published_at >= now - NEWS_WINDOW, Article.published_at <= now)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(NEWS_MAX_URLS)
    ).all()
    return [NewsItem(f"{base_url}/articles/{row.id}/{row.slug}", row.title, row.published_at) for row in rows]
