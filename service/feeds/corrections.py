"""Corrections in feeds (decision 0043): the notice at the top of a corrected article's
item, and the feeds of ``/cai-chinh`` (scope ``corrections``), one item per correction.

Words are the Vietnamese of the catalogue, as the rest of the feeds (``language="vi"``);
dates are dd/mm/yyyy in BANTIN_TIMEZONE. A pure function of the rows, like every render
(no "now"), so an unchanged set of corrections keeps its ETag.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.articles.corrections import APOLOGY, Correction
from service.articles.urls import article_url_for
from service.db.models import Article, ArticleCorrection, ArticleStatus
from service.feeds.model import FeedItem
from service.i18n import N_, gettext, use_language

# The notice's heading, as the article page's (service/web/templates/_correction.html).
HEADING = N_("Cải chính ngày %(date)s")
HEADING_WITH_APOLOGY = N_("Cải chính, xin lỗi ngày %(date)s")
# The fragment of the notice on the article's page: /articles/7/slug#cai-chinh-3.
FRAGMENT = "cai-chinh-{id}"


def local_date(correction: Correction, zone: ZoneInfo) -> str:
    """The correction's date as readers read it: dd/mm/yyyy in ``zone``."""
    return correction.published_at.astimezone(zone).strftime("%d/%m/%Y")


def notice_html(correction: Correction, zone: ZoneInfo) -> str:
    """The notice as HTML (every value escaped): its date, what was wrong, what is right, the apology."""
    with use_language("vi"):
        heading = HEADING_WITH_APOLOGY if correction.apology else HEADING
        parts = [
            f"<p><strong>{escape(gettext(heading, date=local_date(correction, zone)))}</strong></p>",
            f"<p>{escape(gettext('Thông tin chưa chính xác: %(wrong)s', wrong=correction.wrong))}</p>",
            f"<p>{escape(gettext('Thông tin đúng: %(right)s', right=correction.right))}</p>",
        ]
        if correction.apology:
            parts.append(f"<p>{escape(gettext(APOLOGY))}</p>")
    return f'<aside id="{FRAGMENT.format(id=correction.id)}">{"".join(parts)}</aside>'


def notices_of(session: Session, article_ids: Iterable[int]) -> dict[int, tuple[Correction, ...]]:
    """Each article's corrections, newest first, in one query (none: not in the map)."""
    ids = list(article_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(ArticleCorrection)
        .where(ArticleCorrection.article_id.in_(ids))
        .order_by(ArticleCorrection.published_at.desc(), ArticleCorrection.id.desc())
    )
    found: dict[int, list[Correction]] = {}
    for row in rows:
        found.setdefault(row.article_id, []).append(Correction.of(row))
    return {article_id: tuple(notices) for article_id, notices in found.items()}


def with_notices(content_html: str, notices: Sequence[Correction], zone: ZoneInfo) -> str:
    """An item's content with its notices at the top, newest first."""
    return "".join(notice_html(c, zone) for c in notices) + content_html


def correction_items(session: Session, limit: int, base_url: str, zone: ZoneInfo) -> list[FeedItem]:
    """The ``limit`` newest corrections of published articles as FeedItems, newest first:
    titled "Cải chính: <title>", linked to the notice on the article's page."""
    rows = session.execute(
        select(ArticleCorrection, Article.guid, Article.slug, Article.title)
        .join(Article, Article.id == ArticleCorrection.article_id)
        .where(Article.status == ArticleStatus.PUBLISHED.value)
        .order_by(ArticleCorrection.published_at.desc(), ArticleCorrection.id.desc())
        .limit(limit)
    ).all()
    items = []
    with use_language("vi"):
        for row, guid, slug, title in rows:
            correction = Correction.of(row)
            url = f"{article_url_for(base_url, correction.article_id, slug)}#{FRAGMENT.format(id=correction.id)}"
            items.append(
                FeedItem(
                    guid=f"{guid}#{FRAGMENT.format(id=correction.id)}",
                    url=url,
                    title=gettext("Cải chính: %(title)s", title=title),
                    content_html=notice_html(correction, zone),
                    published=correction.published_at,
                    updated=correction.published_at,
                )
            )
    return items
