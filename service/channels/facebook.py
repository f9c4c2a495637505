"""The desk's Facebook Page through the Graph API: an article posted to the Page's feed once,
deleted when it is withdrawn (decision 0039).

The subscription's target is the Page's id; the Page access token is a setting
(``BANTIN_FACEBOOK_PAGE_TOKEN``), like the bot's and the OA's. Shapes, from Meta's
documentation: ``POST /{page-id}/feed`` (``message``, ``link``) answers ``{"id":
"{page-id}_{post-id}"}``; ``DELETE /{post-id}`` answers ``{"success": true}``; an error is
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` ("Handling
Errors"); throttling is codes 4, 17, 32 and 613 with the usage headers ("Rate Limits").
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from service.announcements.message import Medium
from service.channels.base import SendContext
from service.channels.egress import EgressPolicy
from service.channels.http import HttpAnswer, HttpFailure
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.channels.results import elapsed_ms, retry_after_seconds
from service.channels.text import fit
from service.errors import InvalidField
from service.urls import with_path

PAGE_ID = re.compile(r"^\d{1,32}$")
# A Page post's message: at most 63,206 characters.
MAX_MESSAGE = 63_206
# Throttled: the app (4), the user (17), the Page (32), a custom limit (613). Wait, then retry.
THROTTLED = frozenset({4, 17, 32, 613})
# The token expired or was revoked (190; 102 without a subcode: the session), or a
# permission was removed (10, 200-299): nothing works until an admin gives a new token.
TOKEN_REFUSED = frozenset({102, 190, 10, *range(200, 300)})
# DELETE of a post that no longer exists: "Unsupported delete request" (code 100, subcode 33).
NO_SUCH_OBJECT = (100, 33)
# How far back the feed is read for a post of ours a lost answer left behind.
LOOK_BACK_POSTS = 25
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Bantin/1"}


def graph_error(response: HttpAnswer) -> Mapping[str, Any]:
    """The answer's ``error`` object, or {} when it has none (or is not JSON)."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def graph_words(response: HttpAnswer) -> str:
    """Facebook's own words for a refusal, for the log: code/subcode, message, trace id."""
    error = graph_error(response)
    if not error:
        return f"Facebook HTTP {response.status_code}: {response.text[:120]}".strip()
    code = error.get("code")
    subcode = error.get("error_subcode")
    codes = f"{code}/{subcode}" if subcode else f"{code}"
    trace = f" (fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else ""
    return f"Facebook {codes}: {error.get('message') or ''}{trace}"


def graph_gone(response: HttpAnswer) -> Ending | None:
    """A refused Page access token or a removed permission pauses the Page's subscription
    (the Page is there; our key to it is not): ``TOKEN_REFUSED``."""
    code = graph_error(response).get("code")
    if code == 102 and graph_error(response).get("error_subcode"):
        return None  # 102 with a subcode: read the subcode's own advice, not a dead session
    return Ending.PAUSED if code in TOKEN_REFUSED else None


def graph_retry_after(response: HttpAnswer) -> float | None:
    """How long a throttled call should wait: ``Retry-After``, else the longest
    ``estimated_time_to_regain_access`` (minutes) of the usage headers (``X-Business-Use-Case-Usage``,
    for a Page token; ``X-Page-Usage``, ``X-App-Usage``); None when none says."""
    header = retry_after_seconds(response.headers)
    if header is not None:
        return header
    minutes: list[float] = []
    for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage"):
        try:
            usage = json.loads(response.headers.get(name) or "null")
        except ValueError:
            continue
        for entry in _usage_entries(usage):
            value = entry.get("estimated_time_to_regain_access")
            if isinstance(value, int | float) and not isinstance(value, bool):
                minutes.append(float(value))
    return max(minutes) * 60 if minutes else None


def _usage_entries(usage: Any) -> list[Mapping[str, Any]]:
    """A usage header's objects: itself (X-Page-Usage) or, per business id, a list (BUC)."""
    if not isinstance(usage, dict):
        return []
    if all(isinstance(v, list) for v in usage.values()) and usage:
        return [e for entries in usage.values() for e in entries if isinstance(e, dict)]
    return [usage]


class FacebookChannel:
    name = "facebook"
    medium = Medium.TEXT
    gone = staticmethod(graph_gone)

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The Page's numeric id; InvalidField otherwise."""
        target = target.strip()
        if not PAGE_ID.match(target):
            raise InvalidField("target", "not_page_id")
        return target

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """Post the article to the Page's feed, or delete the post a withdrawal takes back."""
        settings = context.settings
        token = settings.facebook_page_token.get_secret_value()
        if not token:
            return SendResult.failure("BANTIN_FACEBOOK_PAGE_TOKEN is not set")
        started = time.perf_counter()
        try:
            if outbound.message.retracts is not None:
                return await self._delete(context, outbound.message.retracts.remote_id, token, started)
            return await self._post(context, outbound, token, started)
        except HttpFailure as exc:
            # The URL may hold the token: the failure names the error, never the URL.
            return SendResult.failure(str(exc), duration_ms=elapsed_ms(started))

    async def _post(self, context: SendContext, outbound: OutboundMessage, token: str, started: float) -> SendResult:
        base = context.settings.facebook_graph_base
        words = fit(outbound.message, MAX_MESSAGE)
        if not words.url:
            # A Page post is an article's; a message with no page to link (a test message) is
            # not put on the desk's public Page.
            return SendResult.failure("not posted: a Page post needs an article's link")
        # Graph has no idempotency key: an answer lost after Facebook made the post (a
        # timeout, a killed worker) would make a second one. The Page's latest posts are
        # read first, and a post of ours for this link is taken as this delivery's.
        found = await self._find_post(context, outbound.target, words.url, token, started)
        if isinstance(found, SendResult):
            return found
        if found is not None:
            return SendResult(ok=True, status_code=200, remote_id=found, duration_ms=elapsed_ms(started))
        form = {"message": words.text, "link": words.url, "access_token": token}
        response = await context.http.call(
            "POST", with_path(base, f"/{quote(outbound.target)}/feed"), content=urlencode(form).encode(), headers=FORM
        )
        post_id = _field(response, "id")
        if response.status_code == 200 and isinstance(post_id, str) and post_id:
            return SendResult(ok=True, status_code=200, remote_id=post_id, duration_ms=elapsed_ms(started))
        return _refused(response, started)

    async def _find_post(
        self, context: SendContext, page_id: str, url: str, token: str, started: float
    ) -> str | SendResult | None:
        """The id of a recent post of the Page whose message holds ``url``; a SendResult when the
        feed cannot be read (a refused token is told like a refused post)."""
        query = urlencode({"fields": "id,message", "limit": LOOK_BACK_POSTS, "access_token": token})
        response = await context.http.call(
            "GET", with_path(context.settings.facebook_graph_base, f"/{page_id}/feed") + "?" + query
        )
        posts = _field(response, "data")
        if response.status_code != 200 or not isinstance(posts, list):
            return _refused(response, started)
        for post in posts:
            if isinstance(post, dict) and url in str(post.get("message") or "") and isinstance(post.get("id"), str):
                return str(post["id"])
        return None

    async def _delete(self, context: SendContext, post_id: str | None, token: str, started: float) -> SendResult:
        if post_id is None:
            # Never posted to this Page (published before it was connected): nothing to take back.
            return SendResult(ok=True, duration_ms=elapsed_ms(started))
        query = urlencode({"access_token": token})
        url = with_path(context.settings.facebook_graph_base, f"/{quote(post_id)}") + "?" + query
        response = await context.http.call("DELETE", url)
        if response.status_code == 200 and _field(response, "success") is True:
            return SendResult(ok=True, status_code=200, remote_id=post_id, duration_ms=elapsed_ms(started))
        error = graph_error(response)
        if (error.get("code"), error.get("error_subcode")) == NO_SUCH_OBJECT:
            # Deleted on Facebook already (by hand, or by an attempt whose answer was lost).
            return SendResult(
                ok=True, status_code=response.status_code, remote_id=post_id, duration_ms=elapsed_ms(started)
            )
        return _refused(response, started)


def _field(response: HttpAnswer, name: str) -> Any:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer.get(name) if isinstance(answer, dict) else None


def _refused(response: HttpAnswer, started: float) -> SendResult:
    """A Graph error as a failed attempt with Facebook's words: a refused token pauses the
    subscription; throttling waits as the usage headers say; anything else is retried on
    the schedule like any refusal."""
    code = graph_error(response).get("code")
    retry_after = None
    if code in THROTTLED or response.status_code == 429:
        retry_after = graph_retry_after(response)
    return SendResult.failure(
        graph_words(response),
        response.status_code,
        retry_after=retry_after,
        gone=graph_gone(response),
        duration_ms=elapsed_ms(started),
    )
