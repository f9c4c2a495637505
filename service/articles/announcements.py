"""The article kinds: published, updated, withdrawn (decision 0032).

Their payload is ``article_payload`` (``service/events/announce.py``): the article's public
fields. The words: a headline for the kind with the title, the summary and the link; a
withdrawn article has no page to link, and its summary is not repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from config.settings import Settings
from service.announcements.compose import lines_words
from service.announcements.kinds import Kind, Recipient, Words
from service.announcements.message import AnnouncementText
from service.db.models import EventType
from service.i18n import N_, gettext
from service.web.templating import absolute_url


def article_words(headline: str, lead: str, *, shows_page: bool = True) -> Words:
    """The words of one article kind: ``headline`` (with ``%(title)s``) over the summary and
    the link; ``lead`` alone when the payload has no title; no summary or link unless
    ``shows_page``."""

    def words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings, now: datetime) -> AnnouncementText:
        article: Mapping[str, Any] = payload.get("article") or {}
        title = str(article.get("title") or "")
        subject = gettext(headline, title=title) if title else gettext(lead)
        lines = [str(article["summary"])] if shows_page and article.get("summary") else []
        url = str(article["url"]) if shows_page and article.get("url") else None
        image = str(article["image_url"]) if article.get("image_url") else None
        return lines_words(subject, lines, url, absolute_url(image, settings.base_url) if image else None)

    return words


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
        label=N_("Bài bị gỡ"),
    ),
)
