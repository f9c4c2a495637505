"""Incoming webhooks of chat services: Slack, Discord and Microsoft Teams."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from service.announcements.message import Medium, Message
from service.channels.base import SendContext, UrlChannel
from service.channels.gone import http_gone
from service.channels.http import HttpAnswer
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.channels.results import post_guarded, retry_after_seconds
from service.channels.text import fit, utf16_length

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Bantin/1"}


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _fitted(outbound: OutboundMessage, limit: int, measure: Callable[[str, str | None], int]) -> Message:
    """The message's words, cut as plain text until their rendering measures within ``limit``."""
    words = outbound.message
    return fit(words, limit, lambda text: measure(text, words.url))


def _lines(text: str, url: str | None, escape: Callable[[str], str], link: Callable[[str], str]) -> str:
    """Each line escaped for the service's markup; the link line formatted as its link."""
    return "\n".join(link(line) if url and line == url else escape(line) for line in text.split("\n"))


def slack_mrkdwn(text: str, url: str | None) -> str:
    """Slack's mrkdwn: &, < and > escaped as entities (else "<!channel>" in a summary would
    notify a whole channel); the link as ``<url|url>``."""

    def escape(line: str) -> str:
        return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def link(line: str) -> str:
        safe = line.replace("|", "%7C").replace(">", "%3E")
        return f"<{safe}|{escape(line)}>"

    return _lines(text, url, escape, link)


DISCORD_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()-])")


def discord_markdown(text: str, url: str | None) -> str:
    """Discord content with markdown characters backslash-escaped (a summary cannot bold,
    quote or mask a link); the link line left bare so Discord links and previews it."""
    return _lines(text, url, lambda line: DISCORD_MARKDOWN.sub(r"\\\1", line), lambda line: line)


# Slack's incoming-webhook answers that mean the webhook will never post again, in the body
# as plain words: the webhook was removed (404 no_service), its channel deleted (404
# channel_not_found) or archived (410 channel_is_archived), its workspace gone or disabled
# (404 no_team, team_disabled), its token revoked (403 invalid_token). Sources: Slack's
# "Sending messages using incoming webhooks" (Handling errors) and its 2016-05-17 changelog.
SLACK_GONE = frozenset(
    {"no_service", "channel_not_found", "channel_is_archived", "no_team", "team_disabled", "invalid_token"}
)
# Discord's JSON error codes for a webhook that no longer exists (10015 Unknown Webhook, with
# 404) or whose token no longer matches it (50027 Invalid Webhook Token, with 401).
DISCORD_GONE = frozenset({10015, 50027})


def slack_gone(response: HttpAnswer) -> Ending | None:
    """Slack's documented words for a webhook that is gone (``SLACK_GONE``), or a 410."""
    if response.status_code >= 400 and response.text.strip() in SLACK_GONE:
        return Ending.ENDED
    return http_gone(response)


def discord_gone(response: HttpAnswer) -> Ending | None:
    """Discord's ``{"code": 10015, "message": "Unknown Webhook"}`` (404) and 50027 (401), or a 410."""
    if response.status_code in (401, 404):
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):  # not JSON, or not an object
            code = None
        if code in DISCORD_GONE:
            return Ending.ENDED
    return http_gone(response)


def teams_gone(response: HttpAnswer) -> Ending | None:
    """Teams: a connector whose configuration was removed answers 410 (Microsoft, msteams-docs
    issue 906); a deleted Workflows webhook (Power Automate) answers 404."""
    return Ending.ENDED if response.status_code in (404, 410) else None


# An Office 365 connector answers 200 to every post and says in the body whether Teams took
# it: a count of messages ("1") when it did, else "Webhook message delivery failed with
# error: Microsoft Teams endpoint returned HTTP error 429 with ContextId …" (Microsoft's
# answers in msteams-docs issues 1810, 4145, 9698: "the response can be considered successful
# only if it returns a number"). Workflows webhooks answer 202 with no body.
TEAMS_FAILED = "Webhook message delivery failed"
TEAMS_WRAPPED_STATUS = re.compile(r"returned HTTP error (\d{3})")
# A wrapped 429 carries no Retry-After; Microsoft's advice is to wait 10-15 s (msteams-docs
# issue 7576) and its documented connector limit is counted per second and per hour.
TEAMS_BACK_OFF_SECONDS = 15.0


def teams_status(response: HttpAnswer) -> int:
    """The status Teams means: for a connector's 200 "Webhook message delivery failed …",
    the status it wraps (502 when it names none); else the answer's own. Other 2xx bodies
    are taken as sent: a Workflows flow may answer with a body of its own making."""
    body = response.text.lstrip()
    if response.status_code != 200 or not body.startswith(TEAMS_FAILED):
        return response.status_code
    wrapped = TEAMS_WRAPPED_STATUS.search(body)
    status = int(wrapped.group(1)) if wrapped else 502
    return status if 400 <= status < 600 else 502


def teams_retry_after(response: HttpAnswer) -> float | None:
    """``Retry-After`` when sent (Workflows' 429), else TEAMS_BACK_OFF_SECONDS for a 429
    a connector wrapped in a 200."""
    header = retry_after_seconds(response.headers)
    if header is not None:
        return header
    return TEAMS_BACK_OFF_SECONDS if teams_status(response) == 429 else None


class SlackChannel(UrlChannel):
    """Slack incoming webhook: one mrkdwn section block, the same text as the notification
    fallback; 429 carries Retry-After."""

    name = "slack"
    medium = Medium.TEXT
    MAX_SECTION_TEXT = 3000  # a section block's text (Block Kit reference)
    gone = staticmethod(slack_gone)

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """POST one mrkdwn section; deferred while the webhook's rate (about 1/s) is used up."""
        # Slack allows about one message per second per incoming webhook.
        key = f"slack:{urlsplit(outbound.target).path}"
        wait = await context.rate_limit(key, context.settings.slack_per_webhook_per_second)
        if wait:
            return SendResult(ok=False, deferred=True, retry_after=wait)
        words = _fitted(outbound, self.MAX_SECTION_TEXT, lambda text, url: len(slack_mrkdwn(text, url)))
        text = slack_mrkdwn(words.text, words.url)
        document = {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
        return await post_guarded(
            context, outbound.target, content=_json(document), headers=JSON_HEADERS, read_gone=self.gone
        )


class DiscordChannel(UrlChannel):
    """Discord webhook: ``{"content": …}`` (2000 characters at most); 204 on success."""

    name = "discord"
    medium = Medium.TEXT
    MAX_CONTENT = 2000  # characters of "content" (Discord's Execute Webhook reference)
    gone = staticmethod(discord_gone)

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """POST the content (at most 2,000 UTF-16 units), mentions disabled."""
        words = _fitted(outbound, self.MAX_CONTENT, lambda text, url: utf16_length(discord_markdown(text, url)))
        content = discord_markdown(words.text, words.url)
        body = _json({"content": content, "allowed_mentions": {"parse": []}})
        return await post_guarded(
            context,
            outbound.target,
            content=body,
            headers=JSON_HEADERS,
            read_retry_after=self.retry_after,
            read_gone=self.gone,
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
    """Microsoft Teams incoming webhook (Workflows or connector): an Adaptive Card message.
    A connector's 200 is read for the failure it may wrap (``teams_status``)."""

    name = "teams"
    medium = Medium.TEXT
    # Teams refuses messages over about 28 KB; the text gets 20 KB of it, the card the rest.
    MAX_TEXT_BYTES = 20_000
    gone = staticmethod(teams_gone)

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """POST an Adaptive Card (1.4): the subject in bold, the text, and an action opening the link."""
        words = _fitted(outbound, self.MAX_TEXT_BYTES, lambda text, url: len(_json({"t": text})))
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
            card["actions"] = [{"type": "Action.OpenUrl", "title": words.link_label, "url": words.url}]
        document = {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
        return await post_guarded(
            context,
            outbound.target,
            content=_json(document),
            headers=JSON_HEADERS,
            read_retry_after=teams_retry_after,
            read_gone=self.gone,
            read_status=teams_status,
        )
