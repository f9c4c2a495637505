"""What ``/cai-chinh`` shows: every correction of a published article, newest first,
keyset-paged like the other listings (``?before=<correction id>``), and its head
(decision 0043; Luật Báo chí 2016, Art. 42).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service.articles.corrections import Correction
from service.db.models import Article, ArticleCorrection, ArticleStatus
from service.errors import NotFound
from service.feeds.urls import CORRECTIONS_FEED_PATH
from service.i18n import gettext
from service.site.meta import FEED_FORMATS, FeedLink, Head, feed_links
from service.web.http import CORRECTIONS_PATH
from service.web.templating import Branding


@dataclass(frozen=True, slots=True)
class Corrected:
    """One correction as the list shows it, with the article it corrects."""

    correction: Correction
    article_id: int
    article_slug: str
    article_title: str
    # When the corrected article was published: the notice names the work and its date (Art. 42's form).
    article_published_at: datetime


@dataclass(frozen=True, slots=True)
class CorrectionsPage:
    """One page of ``/cai-chinh``; ``older``: the cursor of the next page, if any."""

    entries: tuple[Corrected, ...]
    older: int | None
    before: int | None


def corrections_page(session: Session, *, limit: int, before: int | None) -> tuple[CorrectionsPage, datetime | None]:
    """The newest ``limit`` corrections of published articles older than correction ``before``,
    and the newest correction's date (the page's last change). One index range of
    ix_article_corrections_recency; NotFound for a cursor that names no correction."""
    query = (
        select(ArticleCorrection, Article.slug, Article.title, Article.published_at)
        .join(Article, Article.id == ArticleCorrection.article_id)
        .where(Article.status == ArticleStatus.PUBLISHED.value)
    )
    if before is not None:
        anchor = session.get(ArticleCorrection, before)
        if anchor is None:
            raise NotFound(f"no correction {before}")
        at = ArticleCorrection.published_at
        query = query.where(
            or_(at < anchor.published_at, and_(at == anchor.published_at, ArticleCorrection.id < anchor.id))
        )
    rows = session.execute(
        query.order_by(ArticleCorrection.published_at.desc(), ArticleCorrection.id.desc()).limit(limit + 1)
    ).all()
    shown = rows[:limit]
    entries = tuple(
        Corrected(Correction.of(c), c.article_id, slug, title, published) for c, slug, title, published in shown
    )
    older = entries[-1].correction.id if len(rows) > limit else None
    changed = session.scalar(select(func.max(ArticleCorrection.published_at)))
    return CorrectionsPage(entries, older, before), changed


def corrections_feed_links(site: Branding) -> tuple[FeedLink, ...]:
    """The site's feeds, then the corrections', for feed readers to discover."""
    title = gettext("Cải chính")
    own = tuple(
        FeedLink(mime, f"{site.title} – {title} ({label})", f"{site.base_url}{CORRECTIONS_FEED_PATH}/{name}", label)
        for name, mime, label in FEED_FORMATS
    )
    return feed_links(site) + own  # the site's first: the footer names the first three


def corrections_head(site: Branding, page: CorrectionsPage) -> Head:
    """The head of /cai-chinh; later pages are followed but not indexed, like other listings."""
    heading = gettext("Cải chính")
    title = f"{heading} – {site.title}"
    if page.before is not None:
        title = gettext("Tin cũ hơn – %(title)s", title=title)
    url = site.base_url + CORRECTIONS_PATH + (f"?before={page.before}" if page.before is not None else "")
    return Head(
        title=title,
        description=gettext("Các bài cải chính, xin lỗi của tòa soạn, mới nhất trước."),
        canonical=url,
        feeds=corrections_feed_links(site),
        open_graph=(),
        twitter=(),
        robots="noindex, follow" if page.before is not None else None,
    )
