"""Zalo Official Account v3 message API (customer-service messages)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from service.announcements.message import Medium
from service.channels.base import SendContext
from service.channels.egress import EgressPolicy
from service.channels.http import HttpAnswer, HttpFailure
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.channels.results import elapsed_ms
from service.channels.text import fit
from service.errors import InvalidField
from service.urls import with_path

USER_ID = re.compile(r"^\d{1,32}$")
# Customer-service text messages: at most 2,000 characters.
MAX_TEXT = 2000
# Answers that will not change by retrying (the OA API's error table): the user is not, or
# no longer, a follower (-213), or is banned or inactive for over 45 days (-227). The
# subscription ends (the delivery outcome disables it and logs why).
GONE_ERRORS = frozenset({-213, -227})


def _error_code(response: HttpAnswer) -> object:
    """The OA API's ``error`` (0 for success; it answers HTTP 200 either way), or None."""
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer.get("error") if isinstance(answer, dict) else None


def zalo_gone(response: HttpAnswer) -> Ending | None:
    """-213 (the user does not follow the OA, or no longer) and -227 (banned or inactive for
    over 45 days) will not change by retrying: the subscription ends."""
    return Ending.ENDED if _error_code(response) in GONE_ERRORS else None


class ZaloChannel:
    name = "zalo"
    medium = Medium.TEXT
    gone = staticmethod(zalo_gone)

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The numeric Zalo user id; InvalidField otherwise."""
        target = target.strip()
        if not USER_ID.match(target):
            raise InvalidField("target", "not_zalo_user")
        return target

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """Send a consultation text message through the Official Account API (``/v3.0/oa/message/cs``)."""
        settings = context.settings
        if not settings.zalo_access_token:
            return SendResult.failure("BANTIN_ZALO_ACCESS_TOKEN is not set")
        words = fit(outbound.message, MAX_TEXT)
        document = {"recipient": {"user_id": outbound.target}, "message": {"text": words.text}}
        started = time.perf_counter()
        try:
            response = await context.http.post_json(
                with_path(settings.zalo_api_base, "/v3.0/oa/message/cs"),
                document,
                {"access_token": settings.zalo_access_token.get_secret_value()},
            )
        except HttpFailure as exc:
            return SendResult.failure(str(exc), duration_ms=elapsed_ms(started))
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        # Zalo answers HTTP 200 for failures too: only "error": 0 means delivered.
        if isinstance(answer, dict) and answer.get("error") == 0:
            return SendResult(ok=True, status_code=response.status_code, duration_ms=elapsed_ms(started))
        code = answer.get("error") if isinstance(answer, dict) else None
        detail = answer.get("message") if isinstance(answer, dict) else response.text[:120]
        return SendResult.failure(
            f"Zalo error {code}: {detail}",
            response.status_code,
            gone=zalo_gone(response),
            duration_ms=elapsed_ms(started),
        )
