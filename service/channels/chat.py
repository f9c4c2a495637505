"""Incoming webhooks of chat services: Slack, Discord and Microsoft Teams."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from service.channels.base import SendContext, UrlChannel
from service.channels.http import HttpAnswer
from service.channels.messages import OutboundMessage, SendResult
from service.channels.results import post_guarded
from service.channels.text import render_text

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Bantin/1"}


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


class SlackChannel(UrlChannel):
    """Slack incoming webhook: ``{"text": …}``; 429 carries Retry-After."""

    name = "slack"

    async def send(self, context: SendContext, message: OutboundMessage) -> SendResult:
        # Slack allows about one message per second per incoming webhook.
        key = f"slack:{urlsplit(message.target).path}"
        wait = await context.rate_limit(key, context.settings.slack_per_webhook_per_second)
        if wait:
            return SendResult(ok=False, deferred=True, retry_after=wait)
        words = render_text(message.event_type, message.payload, message.locale)
        text = words.text if not words.url else words.text.replace(words.url, f"<{words.url}|{words.url}>")
        return await post_guarded(context, message.target, content=_json({"text": text}), headers=JSON_HEADERS)


class DiscordChannel(UrlChannel):
    """Discord webhook: ``{"content": …}`` (2000 characters at most); 204 on success."""

    name = "discord"
    MAX_CONTENT = 2000

    async def send(self, context: SendContext, message: OutboundMessage) -> SendResult:
        words = render_text(message.event_type, message.payload, message.locale)
        body = _json({"content": words.text[: self.MAX_CONTENT], "allowed_mentions": {"parse": []}})
        return await post_guarded(
            context, message.target, content=body, headers=JSON_HEADERS, read_retry_after=self.retry_after
        )

    @staticmethod
    def retry_after(response: HttpAnswer) -> float | None:
        """Discord says when to retry in three places; the body's value was milliseconds in
        API v6 and earlier and is seconds (a float) since. Prefer the headers, which are
        always seconds; for the body, an integer of 100 or more is read as milliseconds."""
        for header in ("retry-after", "x-ratelimit-reset-after"):
            if header in response.headers:
                try:
                    return max(0.0, float(response.headers[header]))
                except ValueError:
                    pass
        try:
            value = response.json().get("retry_after")
        except (ValueError, AttributeError):  # not JSON, or not an object
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if isinstance(value, int) and value >= 100:
            return value / 1000
        return float(value)


class TeamsChannel(UrlChannel):
    """Microsoft Teams incoming webhook (Workflows or connector): an Adaptive Card message."""

    name = "teams"

    async def send(self, context: SendContext, message: OutboundMessage) -> SendResult:
        words = render_text(message.event_type, message.payload, message.locale)
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": words.subject, "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "text": words.text.split("\n", 1)[-1] if "\n" in words.text else "", "wrap": True},
        ]
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        if words.url:
            card["actions"] = [
                {"type": "Action.OpenUrl", "title": "Xem" if message.locale == "vi" else "Open", "url": words.url}
            ]
        document = {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
        return await post_guarded(context, message.target, content=_json(document), headers=JSON_HEADERS)
