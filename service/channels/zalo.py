"""Zalo Official Account v3 message API: tư vấn text inside the 7-day window, the promotion
template outside it, within the OA's promotion quota (decision 0040; shapes in ``zalo_forms``)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, Protocol

from service.announcements.message import Medium
from service.channels.base import SendContext
from service.channels.egress import EgressPolicy
from service.channels.http import HttpAnswer, HttpFailure
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.channels.results import elapsed_ms
from service.channels.text import fit
from service.channels.zalo_forms import (
    COLD_MARK,
    CS_PATH,
    MAX_TEXT,
    PROMOTION_PATH,
    Answer,
    OaAnswer,
    cs_document,
    known_cold,
    promotion_document,
    read_answer,
)
from service.errors import InvalidField
from service.i18n import N_, gettext
from service.urls import with_path

USER_ID = re.compile(r"^\d{1,32}$")
# Answers that will not change by retrying (the OA API's error table): the user is not, or
# no longer, a follower (-213), or is banned or inactive for over 45 days (-227). The
# subscription ends (the delivery outcome disables it and logs why).
GONE_ERRORS = frozenset({-213, -227})
BUTTON = N_("Đọc bài")
# What a batch hands the channel in ``SendContext.resources`` (service.deliveries.zalo_quota):
# the deliveries to cold followers that were given a promotion unit before sending, most
# recent follower first; those that were not, with the seconds until the quota returns; and
# the gate that hears Zalo's own "out of quota".
GRANTED = "zalo.promotion.granted"
HELD = "zalo.promotion.held"
GATE = "zalo.promotion.gate"
# The notes the delivery log keeps (words in service/web/log_words.py).
SWITCHED = "Zalo: outside the 7-day window (-230), to be sent as a promotion message"
AS_PROMOTION = "Zalo: outside the 7-day window, sent as a promotion message"
WAITING_QUOTA = "Zalo: promotion quota used up, waiting for it to return"
WAITING_FOLLOWER = "Zalo: the follower's promotion limit reached, waiting a day"
WAITING_NIGHT = "Zalo: promotion messages are not sent at night, waiting for the morning"
# After a -230: long enough for the announcement's other -230s to be marked too, so that the
# quota is ranked over all of them (service.deliveries.zalo_quota.prepare).
SWITCH_WAIT = 5.0
FOLLOWER_WAIT = 86400.0
NIGHT_WAIT = 3600.0
RATE_WAIT = 60.0


_WAITS = {Answer.FOLLOWER_QUOTA: (FOLLOWER_WAIT, WAITING_FOLLOWER), Answer.NIGHT: (NIGHT_WAIT, WAITING_NIGHT)}


class PromotionQuota(Protocol):
    """The OA's promotion quota, as the batch keeps it (service.deliveries.zalo_quota)."""

    async def exhausted(self) -> float:
        """Zalo said "out of quota": nothing more this window; the seconds until it ends."""


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
        """One delivery, in the form that reaches the follower (decision 0040).

        A follower in the 7-day window gets tư vấn text. One known to be outside it gets the
        promotion template, if the batch gave them a unit of the OA's quota (most recent
        follower first); else the delivery waits, deferred, for the quota to return. A -230
        marks the follower outside the window (``zalo_cold_ms``) and defers the delivery a
        few seconds, so the next batch sends it as a promotion in its turn: one delivery row, one
        message to the follower, and no attempt counted against it.
        """
        settings = context.settings
        if not settings.zalo_access_token:
            return SendResult.failure("BANTIN_ZALO_ACCESS_TOKEN is not set")
        started = time.perf_counter()
        held: Mapping[str, float] = context.resources.get(HELD, {})
        if outbound.delivery_id in held:
            return SendResult(ok=False, deferred=True, retry_after=held[outbound.delivery_id], error=WAITING_QUOTA)
        if outbound.delivery_id not in context.resources.get(GRANTED, ()) and not known_cold(outbound.options):
            words = fit(outbound.message, MAX_TEXT)
            answer = await self._post(context, CS_PATH, cs_document(outbound.target, words.text))
            if isinstance(answer, SendResult) or answer[0].meaning is not Answer.OUTSIDE_WINDOW:
                return self._result(answer, started, None)
            return SendResult(ok=False, deferred=True, retry_after=SWITCH_WAIT, error=SWITCHED,
                              keep={COLD_MARK: int(time.time() * 1000)}, duration_ms=elapsed_ms(started))  # fmt: skip
        document = promotion_document(outbound.target, outbound.message, gettext(BUTTON))
        answer = await self._post(context, PROMOTION_PATH, document)
        return await self._promotion_result(context, answer, started)

    async def _post(
        self, context: SendContext, path: str, document: dict[str, Any]
    ) -> tuple[OaAnswer, HttpAnswer] | SendResult:
        settings = context.settings
        try:
            response = await context.http.post_json(
                with_path(settings.zalo_api_base, path),
                document,
                {"access_token": settings.zalo_access_token.get_secret_value()},
            )
        except HttpFailure as exc:
            return SendResult.failure(str(exc))
        try:
            body: object = response.json()
        except ValueError:
            body = None
        return read_answer(body, response.text), response

    def _result(self, answer: tuple[OaAnswer, HttpAnswer] | SendResult, started: float, note: str | None) -> SendResult:
        duration = elapsed_ms(started)
        if isinstance(answer, SendResult):
            answer.duration_ms = duration
            return answer
        read, response = answer
        if read.meaning is Answer.SENT:
            return SendResult(ok=True, status_code=response.status_code, error=note, duration_ms=duration)
        retry_after = RATE_WAIT if read.meaning is Answer.RATE else None
        return SendResult.failure(
            f"Zalo error {read.code}: {read.detail}",
            response.status_code,
            gone=zalo_gone(response),
            retry_after=retry_after,
            duration_ms=duration,
        )

    async def _promotion_result(
        self, context: SendContext, answer: tuple[OaAnswer, HttpAnswer] | SendResult, started: float
    ) -> SendResult:
        """Waiting is not failing: out of quota, the follower's own limit or the night hold
        the delivery back (deferred) until the quota, the next day or the morning returns."""
        if not isinstance(answer, SendResult):
            meaning = answer[0].meaning
            if meaning is Answer.OA_QUOTA:
                gate: PromotionQuota | None = context.resources.get(GATE)
                wait = await gate.exhausted() if gate is not None else FOLLOWER_WAIT
                return SendResult(ok=False, deferred=True, retry_after=wait, error=WAITING_QUOTA,
                                  duration_ms=elapsed_ms(started))  # fmt: skip
            waits = {
                Answer.FOLLOWER_QUOTA: (FOLLOWER_WAIT, WAITING_FOLLOWER),
                Answer.NIGHT: (NIGHT_WAIT, WAITING_NIGHT),
            }
            if meaning in waits:
                wait, words = waits[meaning]
                return SendResult(ok=False, deferred=True, retry_after=wait, error=words,
                                  duration_ms=elapsed_ms(started))  # fmt: skip
        return self._result(answer, started, AS_PROMOTION)
