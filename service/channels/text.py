"""The words of an announcement, per locale: one subject, a plain text and an HTML body."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

ELLIPSIS = "…"
# How a channel counts the length of its message: characters, UTF-16 code units, bytes ...
Measure = Callable[[str], int]

LEADS = {
    "vi": {
        "article.published": "Bài mới",
        "article.updated": "Cập nhật",
        "article.withdrawn": "Đã gỡ bài",
        "subscription.disabled": "Kênh nhận tin bị tắt",
        "subscription.test": "Tin thử",
    },
    "en": {
        "article.published": "New article",
        "article.updated": "Updated",
        "article.withdrawn": "Withdrawn",
        "subscription.disabled": "Subscription disabled",
        "subscription.test": "Test message",
    },
}


@dataclass(frozen=True)
class AnnouncementText:
    subject: str
    text: str
    html: str
    url: str | None


def render_text(event_type: str, payload: Mapping[str, Any], locale: str) -> AnnouncementText:
    """The words of an announcement in ``locale`` (``vi`` when unknown): prepared text for
    reminders, else a lead per event type, the article's title, summary and link.
    """
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


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: how Telegram and Discord (JavaScript) count characters."""
    return len(text.encode("utf-16-le")) // 2


def fit(words: AnnouncementText, limit: int, measure: Measure = len) -> AnnouncementText:
    """The announcement cut to ``measure(text) <= limit``: the plain text is cut first (its
    link line always kept whole, the cut marked with "…"), and each channel escapes or
    formats after, inside ``measure``, so markup is never cut in half.

    ``measure`` must grow with the text (a longer prefix never measures less).
    """
    if measure(words.text) <= limit:
        return words
    tail = f"\n{words.url}" if words.url and words.text.endswith(f"\n{words.url}") else ""
    head = words.text[: len(words.text) - len(tail)]
    low, high = 0, len(head)  # the longest prefix that fits: binary search on its length
    while low < high:
        middle = (low + high + 1) // 2
        if measure(_cut(head, middle) + tail) <= limit:
            low = middle
        else:
            high = middle - 1
    text = _cut(head, low) + tail
    if measure(text) > limit:  # not even the link fits: cut it like any text
        return fit(replace(words, url=None), limit, measure)
    return replace(words, text=text, html=_paragraphs(text, words.url))


def _cut(text: str, length: int) -> str:
    """``text[:length]`` ending in "…", never between a letter and its combining mark."""
    if length >= len(text):
        return text
    while length > 0 and unicodedata.combining(text[length]):
        length -= 1  # the mark belongs to the letter before it: both go
    return text[:length].rstrip() + ELLIPSIS
