"""The words of an announcement, per locale: one subject, a plain text and an HTML body."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEADS = {
    "vi": {
        "article.published": "Bài mới",
        "article.updated": "Cập nhật",
        "article.withdrawn": "Đã gỡ bài",
        "subscription.disabled": "Kênh nhận tin bị tắt",
    },
    "en": {
        "article.published": "New article",
        "article.updated": "Updated",
        "article.withdrawn": "Withdrawn",
        "subscription.disabled": "Subscription disabled",
    },
}


@dataclass(frozen=True)
class AnnouncementText:
    subject: str
    text: str
    html: str
    url: str | None


def render_text(event_type: str, payload: Mapping[str, Any], locale: str) -> AnnouncementText:
    locale = locale if locale in LEADS else "vi"
    prepared = payload.get("text")
    if isinstance(prepared, Mapping):
        # Reminders arrive with their words already rendered per locale.
        body = str(prepared.get(locale) or prepared.get("vi") or "")
        subject = str((payload.get("subject") or {}).get(locale) or body.split("\n", 1)[0])
        url = payload.get("url")
        return AnnouncementText(subject, body, _paragraphs(body, url), url)
    article = payload.get("article") or {}
    lead = LEADS[locale].get(event_type, event_type)
    title = str(article.get("title") or payload.get("message") or "")
    subject = f"{lead}: {title}" if title else lead
    lines = [subject]
    if article.get("summary") and event_type != "article.withdrawn":
        lines.append(str(article["summary"]))
    url = article.get("url") if event_type != "article.withdrawn" else None
    if url:
        lines.append(str(url))
    text = "\n".join(lines)
    return AnnouncementText(subject, text, _paragraphs(text, url), url)


def _paragraphs(text: str, url: Any) -> str:
    parts = []
    for line in text.split("\n"):
        escaped = html.escape(line)
        if url and line == url:
            escaped = f'<a href="{html.escape(str(url))}">{escaped}</a>'
        parts.append(f"<p>{escaped}</p>")
    return "".join(parts)
