"""The article kinds: published, updated, withdrawn, corrected (decisions 0032 and 0043).

Their payload is ``article_payload`` (``service/events/announce.py``): the article's public
fields. The words: a headline for the kind with the title, the summary and the link; a
withdrawn article has no page to link, and its summary is not repeated. A withdrawal takes
back the article's published message (``earlier_messages``): a destination that gave that
message an id (a Facebook Page post) has it deleted (decision 0039). A correction says what
was wrong, what is right and, when the desk apologises, that it does; it goes only to those
who received the article's publication (``service/events/announce.original_recipients``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.announcements.compose import lines_words
from service.announcements.kinds import Claim, Content, Kind, Recipient, Words
from service.announcements.message import AnnouncementText, Retraction
from service.articles.corrections import APOLOGY
from service.db.models import Announcement, Delivery, EventType
from service.db.statements import among
from service.i18n import N_, gettext
from service.web.templating import absolute_url


def article_words(headline: str, lead: str, *, shows_page: bool = True) -> Words:
    """The words of one article kind: ``headline`` (with ``%(title)s``) over the summary (else
    the start of the body) and the link; ``lead`` alone when the payload has no title; no summary or link unless
    ``shows_page``."""

    def words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings, now: datetime) -> AnnouncementText:
        article: Mapping[str, Any] = payload.get("article") or {}
        title = str(article.get("title") or "")
        subject = gettext(headline, title=title) if title else gettext(lead)
        # The summary, else the start of the body (``excerpt``: announcements planned before it was carried have none).
        opening = article.get("summary") or article.get("excerpt")
        lines = [str(opening)] if shows_page and opening else []
        url = str(article["url"]) if shows_page and article.get("url") else None
        image = str(article["image_url"]) if article.get("image_url") else None
        return lines_words(subject, lines, url, absolute_url(image, settings.base_url) if image else None)

    return words


def _article_id(payload: Mapping[str, Any]) -> int | None:
    article = payload.get("article")
    value = article.get("id") if isinstance(article, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def earlier_messages(session: Session, claims: Sequence[Claim], settings: Settings) -> Mapping[str, Content]:
    """Each withdrawal's retraction: the id its recipient's destination gave the article's
    latest published message, or None. One statement for the batch, over the deliveries of
    its recipients that kept an id (``Delivery.remote_id``: only channels that return one)."""
    wanted = {c.delivery_id: (c.recipient.subscription_id, _article_id(c.payload)) for c in claims}
    article_ids = {article_id for _, article_id in wanted.values() if article_id is not None}
    latest: dict[tuple[int, int], str] = {}
    if article_ids:
        article_id = Announcement.payload["article"]["id"].as_integer()
        rows = session.execute(
            select(Delivery.subscription_id, article_id, Delivery.remote_id)
            .join(Announcement, Announcement.id == Delivery.announcement_id)
            .where(
                among(session, Delivery.subscription_id, {s for s, _ in wanted.values()}),
                Delivery.remote_id.is_not(None),
                Announcement.type == EventType.ARTICLE_PUBLISHED.value,
                article_id.in_(article_ids),
            )
            .order_by(Delivery.delivered_at, Delivery.created_at)
        )
        for subscription_id, published_article, remote_id in rows:
            latest[(subscription_id, published_article)] = remote_id  # the last one wins
    contents: dict[str, Content] = {}
    for claim in claims:
        subscription_id, withdrawn = wanted[claim.delivery_id]
        remote_id = latest.get((subscription_id, withdrawn)) if withdrawn is not None else None
        contents[claim.delivery_id] = Content(claim.payload, retracts=Retraction(remote_id))
    return contents


def correction_words(
    payload: Mapping[str, Any], recipient: Recipient, settings: Settings, now: datetime
) -> AnnouncementText:
    """The words of ``article.corrected``: "Cải chính: <title>", what was wrong, what is
    right, the apology when there is one, and the article's link."""
    article: Mapping[str, Any] = payload.get("article") or {}
    correction: Mapping[str, Any] = payload.get("correction") or {}
    title = str(article.get("title") or "")
    subject = gettext("Cải chính: %(title)s", title=title) if title else gettext("Cải chính bài đã đăng")
    lines = [
        gettext("Thông tin chưa chính xác: %(wrong)s", wrong=str(correction.get("wrong") or "")),
        gettext("Thông tin đúng: %(right)s", right=str(correction.get("right") or "")),
    ]
    if correction.get("apology"):
        lines.append(gettext(APOLOGY))
    url = str(article["url"]) if article.get("url") else None
    return lines_words(subject, lines, url)


KINDS = (
    Kind(
        EventType.ARTICLE_PUBLISHED.value,
        article_words(N_("Bài mới: %(title)s"), N_("Bài mới")),
        label=N_("Bài mới đăng"),
    ),
    Kind(
        EventType.ARTICLE_UPDATED.value,
        article_words(N_("Cập nhật: %(title)s"), N_("Cập nhật")),
        label=N_("Bài được cập nhật"),
    ),
    Kind(
        EventType.ARTICLE_WITHDRAWN.value,
        article_words(N_("Đã gỡ bài: %(title)s"), N_("Đã gỡ bài"), shows_page=False),
        load=earlier_messages,
        label=N_("Bài bị gỡ"),
    ),
    Kind(EventType.ARTICLE_CORRECTED.value, correction_words, label=N_("Cải chính bài đã đăng")),
)
