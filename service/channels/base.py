"""The one interface every channel adapter implements, and the context a send gets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from config.settings import Settings
from service.announcements.message import Medium
from service.channels.egress import EgressDenied, EgressPolicy, check_url
from service.channels.gone import http_gone
from service.channels.http import GuardedHttp
from service.channels.messages import OutboundMessage, SendResult
from service.errors import InvalidField


class Channel(Protocol):
    name: str
    medium: Medium  # what it writes out: only that is rendered for it (service.announcements.compose)

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The normalised target, or InvalidField naming what is wrong."""

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """One attempt at writing ``outbound.message`` out; never raises for a failure of the
        destination (a SendResult says it)."""


class RateLimiter(Protocol):
    def acquire(self, key: str, per_second: float, burst: float = 1.0) -> float:
        """Take one token; returns 0 when taken, else the seconds to wait."""


@dataclass
class SendContext:
    """Shared by every send in one batch: the guarded HTTP client, limits, settings."""

    settings: Settings
    http: GuardedHttp
    limiter: RateLimiter
    # Per-channel state for the batch (an SMTP connection); closed by the sender.
    resources: dict[str, Any] = field(default_factory=dict)

    async def rate_limit(self, key: str, per_second: float, max_wait: float = 2.0) -> float:
        """Wait for a token if that takes at most ``max_wait``; else return how long to defer."""
        while True:
            wait = await asyncio.to_thread(self.limiter.acquire, key, per_second)
            if wait <= 0:
                return 0.0
            if wait > max_wait:
                return wait
            await asyncio.sleep(wait)


class UrlChannel:
    """A channel whose target is a URL the subscriber gives: checked by the egress guard.

    ``gone`` reads its service's "this destination is gone" answers (decision 0039); a
    subclass whose service documents more than HTTP 410 names its own reader.
    """

    gone = staticmethod(http_gone)

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The URL, stripped; InvalidField when ``check_url`` refuses it (scheme, credentials, a host not allowed)."""
        try:
            check_url(target, policy)
        except EgressDenied as exc:
            raise InvalidField("target", exc.code, **exc.params) from None
        return target.strip()
