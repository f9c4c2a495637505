"""The words of a digest e-mail, in the subscriber's locale (Vietnamese unless English).

Articles newest first, each with its image, linked title, summary and time. The
preferences link and the one-click unsubscribe are added by the e-mail channel, as for
every reader mail (``service.channels.mail.build_email``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from config.settings import Settings
from service.channels.text import AnnouncementText

WORDS = {
    "vi": {
        "daily": "Bản tin {site} ngày {date}",
        "weekly": "Bản tin tuần {site}, {date}",
        "lead": "{count} bài mới từ {since} đến {until}.",
        "read": "Đọc bài",
    },
    "en": {
        "daily": "{site} daily digest, {date}",
        "weekly": "{site} weekly digest, {date}",
        "lead": "{count} new articles from {since} to {until}.",
        "read": "Read",
    },
}
IMAGE_WIDTH = 560  # px: fits the common 600 px mail column with its margins


def digest_mail(settings: Settings, payload: Mapping[str, Any], locale: str) -> AnnouncementText:
    """Subject, text and HTML of one digest: ``payload`` is a digest delivery's
    (``service.digests.content.digest_payloads``); times shown in BANTIN_TIMEZONE."""
    words = WORDS.get(locale, WORDS["vi"])
    zone = settings.zone
    until = datetime.fromisoformat(str(payload["period_start"])).astimezone(zone)
    since = datetime.fromisoformat(str(payload["covers_from"])).astimezone(zone)
    articles: list[Mapping[str, Any]] = list(payload.get("articles") or [])
    frequency = "weekly" if payload.get("frequency") == "weekly" else "daily"
    subject = words[frequency].format(site=settings.site_title, date=f"{until:%d/%m/%Y}")
    lead = words["lead"].format(count=len(articles), since=f"{since:%H:%M %d/%m}", until=f"{until:%H:%M %d/%m}")
    text_parts = [lead]
    html_parts = [f"<h1>{html.escape(subject)}</h1>", f"<p>{html.escape(lead)}</p>"]
    for article in articles:
        title, url = str(article["title"]), str(article["url"])
        summary = str(article.get("summary") or "")
        text_parts.append(f"{title}\n{summary}\n{url}" if summary else f"{title}\n{url}")
        link = html.escape(url, quote=True)
        block = ""
        if article.get("image_url"):
            block += (
                f'<a href="{link}"><img src="{html.escape(str(article["image_url"]), quote=True)}" '
                f'alt="{html.escape(title, quote=True)}" width="{IMAGE_WIDTH}" style="max-width:100%;height:auto"></a>'
            )
        block += f'<h2><a href="{link}">{html.escape(title)}</a></h2>'
        if summary:
            block += f"<p>{html.escape(summary)}</p>"
        html_parts.append(block + f'<p><a href="{link}">{words["read"]} →</a></p>')
    first = str(articles[0]["url"]) if articles else None
    return AnnouncementText(subject, "\n\n".join(text_parts), "".join(html_parts), first)
