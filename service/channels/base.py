"""The one interface every channel adapter implements, and what they share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from config.settings import Settings
from service.channels.egress import EgressDenied, EgressPolicy, ResolvedTarget, check_url
from service.db.types import utcnow

# Statuses that mean "later, please": honour Retry-After and back off.
BACK_OFF_STATUSES = frozenset({429, 502, 503, 504})
MAX_ERROR_LENGTH = 300


@dataclass(frozen=True)
class OutboundMessage:
    """Everything an adapter needs for one delivery, loaded before any network I/O."""

    delivery_id: str
    subscription_id: int
    channel: str
    target: str
    options: Mapping[str, Any]
    locale: str
    event_type: str
    payload: Mapping[str, Any]
    created_at: float  # epoch seconds of the announcement
    secrets: tuple[str, ...] = ()  # signing secrets, newest first
    unsubscribe_token: str = ""
    # WebSub content distribution: the feed's current bytes, loaded when the batch starts.
    content: FeedContent | None = None


@dataclass(frozen=True)
class FeedContent:
    body: bytes
    content_type: str
    self_url: str
    hub_url: str


@dataclass
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    # The destination said it is gone for good (HTTP 410): disable the subscription.
    gone: bool = False
    # Not attempted: a rate limit asked us to wait; no attempt is recorded.
    deferred: bool = False
    duration_ms: int = 0

    @classmethod
    def failure(cls, error: str, status_code: int | None = None, **kwargs: Any) -> SendResult:
        return cls(ok=False, status_code=status_code, error=error[:MAX_ERROR_LENGTH], **kwargs)


class RateLimiter(Protocol):
    def acquire(self, key: str, per_second: float, burst: float = 1.0) -> float:
        """Take one token; returns 0 when taken, else the seconds to wait."""


@dataclass
class SendContext:
    """Shared by every send in one batch: keep-alive connections, resolved hosts, limits."""

    settings: Settings
    http: httpx.AsyncClient
    limiter: RateLimiter
    policy: EgressPolicy
    # Per-channel state for the batch (an SMTP connection); closed by the sender.
    resources: dict[str, Any] = field(default_factory=dict)
    _resolved: dict[str, ResolvedTarget | EgressDenied] = field(default_factory=dict)
    _resolving: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def guard(self, url: str) -> ResolvedTarget:
        """Check a subscriber-supplied URL once per batch; raises EgressDenied."""
        cached = self._resolved.get(url)
        if cached is None:
            async with self._resolving:
                cached = self._resolved.get(url)
                if cached is None:
                    try:
                        cached = await asyncio.to_thread(check_url, url, self.policy)
                    except EgressDenied as exc:
                        cached = exc
                    self._resolved[url] = cached
        if isinstance(cached, EgressDenied):
            raise cached
        return cached

    async def rate_limit(self, key: str, per_second: float, max_wait: float = 2.0) -> float:
        """Wait for a token if that takes at most ``max_wait``; else return how long to defer."""
        while True:
            wait = await asyncio.to_thread(self.limiter.acquire, key, per_second)
            if wait <= 0:
                return 0.0
            if wait > max_wait:
                return wait
            await asyncio.sleep(wait)


class Channel(Protocol):
    name: str

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The normalised target, or InvalidField naming what is wrong."""

    async def send(self, context: SendContext, message: OutboundMessage) -> SendResult: ...


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


RetryAfterReader = Callable[[httpx.Response], float | None]


def classify(response: httpx.Response, started: float, read_retry_after: RetryAfterReader | None = None) -> SendResult:
    """The common HTTP rule: 2xx ok; 3xx failure (never followed); 410 gone; 429/5xx back off."""
    duration = int((time.perf_counter() - started) * 1000)
    status = response.status_code
    if 200 <= status < 300:
        return SendResult(ok=True, status_code=status, duration_ms=duration)
    if 300 <= status < 400:
        return SendResult.failure(
            f"redirect to {response.headers.get('location', '?')} not followed", status, duration_ms=duration
        )
    reason = f"HTTP {status}: {response.text[:120]}".strip()
    if status == 410:
        return SendResult.failure(reason, status, gone=True, duration_ms=duration)
    retry_after = None
    if status in BACK_OFF_STATUSES:
        retry_after = read_retry_after(response) if read_retry_after else retry_after_seconds(response.headers)
    return SendResult.failure(reason, status, retry_after=retry_after, duration_ms=duration)


async def post_guarded(
    context: SendContext,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    read_retry_after: RetryAfterReader | None = None,
) -> SendResult:
    """POST to a subscriber-supplied URL through the egress guard, timing it."""
    started = time.perf_counter()
    try:
        target = await context.guard(url)
    except EgressDenied as exc:
        return SendResult.failure(f"egress denied: {exc}")
    try:
        response = await context.http.post(
            target.url,
            content=content,
            headers={**headers, "Host": _host_header(url, target)},
            extensions={"sni_hostname": target.host},
        )
    except httpx.TimeoutException:
        return SendResult.failure("timed out", duration_ms=int((time.perf_counter() - started) * 1000))
    except httpx.HTTPError as exc:
        return SendResult.failure(
            f"{type(exc).__name__}: {exc}", duration_ms=int((time.perf_counter() - started) * 1000)
        )
    return classify(response, started, read_retry_after)


def _host_header(url: str, target: ResolvedTarget) -> str:
    netloc = httpx.URL(url).netloc.decode("ascii")
    return netloc.rsplit("@", 1)[-1] or target.host
