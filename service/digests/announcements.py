"""The digest kind (``reader.digest``), decision 0032: a reader's articles of one period.

What a delivery carries is loaded for the whole batch (``content.load_digests``); the
words are the subject, a lead line and, newest first, each article with its image, linked
title, summary and link, in the subscriber's language, times in BANTIN_TIMEZONE. The
preferences link and the one-click unsubscribe come with every reader mail
(``service.announcements.compose``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Template
from markupsafe import Markup

from config.settings import Settings
from service.announcements.kinds import Kind, Recipient
from service.announcements.message import AnnouncementText
from service.digests.content import load_digests
from service.digests.planning import DIGEST
from service.i18n import N_, gettext, ngettext
from service.web.templating import build_environment

IMAGE_WIDTH = 560  # px: fits the common 600 px mail column with its margins
SUBJECTS = {
    "daily": N_("Bản tin %(site)s ngày %(date)s"),
    "weekly": N_("Bản tin tuần %(site)s, %(date)s"),
}


def digest_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                 now: datetime) -> AnnouncementText:  # fmt: skip
    """Subject, text and HTML of one digest: ``payload`` is a digest delivery's (``load_digests``)."""
    zone = settings.zone
    until = datetime.fromisoformat(str(payload["period_start"])).astimezone(zone)
    since = datetime.fromisoformat(str(payload["covers_from"])).astimezone(zone)
    articles: list[Mapping[str, Any]] = list(payload.get("articles") or [])
    frequency = "weekly" if payload.get("frequency") == "weekly" else "daily"
    date, start, end = f"{until:%d/%m/%Y}", f"{since:%H:%M %d/%m}", f"{until:%H:%M %d/%m}"
    subject = gettext(SUBJECTS[frequency], site=settings.site_title, date=date)
    lead = ngettext(
        "%(num)s bài mới từ %(since)s đến %(until)s.",
        "%(num)s bài mới từ %(since)s đến %(until)s.",
        len(articles),
        since=start,
        until=end,
    )
    read = gettext("Đọc bài")
    blocks = [
        _article(str(a["title"]), str(a.get("summary") or ""), str(a["url"]), a.get("image_url"), read)
        for a in articles
    ]
    # Fragments of the templates, joined: a period's readers share the heading and the articles.
    body = Markup("\n").join([_heading(subject, lead), *(html for _, html in blocks)])
    first = str(articles[0]["url"]) if articles else None
    return AnnouncementText(subject, "\n\n".join([lead, *(text for text, _ in blocks)]), body, first)


@lru_cache(maxsize=4096)
def _article(title: str, summary: str, url: str, image_url: str | None, read: str) -> tuple[str, Markup]:
    """One article as a digest shows it, (text, HTML), made once per process and language: a
    batch's readers share a few dozen articles, and rendering each for every reader was most
    of a digest's composing time."""
    html = _template("digest_article.html").render(
        title=title, summary=summary, url=url, image_url=image_url, read=read, image_width=IMAGE_WIDTH
    )
    return (f"{title}\n{summary}\n{url}" if summary else f"{title}\n{url}"), Markup(html)  # noqa: S704 - autoescaped


@lru_cache(maxsize=256)
def _heading(subject: str, lead: str) -> Markup:
    """The digest's title and lead line, made once per process for each wording."""
    return Markup(_template("digest_heading.html").render(subject=subject, lead=lead))  # noqa: S704 - autoescaped


def _template(name: str) -> Template:
    return build_environment("service.digests").get_template(name)


KINDS = (Kind(DIGEST, digest_words, load=load_digests, label=N_("Bản tin tổng hợp")),)
