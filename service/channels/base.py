"""The one interface every channel adapter implements, and what they share."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from config.settings import Settings
from service.channels.egress import EgressDenied, EgressPolicy, ResolvedTarget, check_url, pinned
from service.db.types import utcnow
from service.errors import InvalidField

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
    announcement_id: int = 0
    attempts_made: int = 0  # before this one


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


@dataclass(frozen=True)
class HttpAnswer:
    """What came back from an HTTP call, independent of the client library."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class HttpFailure(Exception):
    """No answer: timed out, refused, reset. The message is short and carries no secret."""


@dataclass
class SendContext:
    """Shared by every send in one batch: keep-alive connections, resolved hosts, limits.

    aiohttp, not httpx, for the batch: on this 2-core machine httpx's async client
    spends several times aiohttp's CPU per request, which capped a fan-out at about
    a tenth of what the receiver could take (bench/README.md).
    """

    settings: Settings
    http: aiohttp.ClientSession
    limiter: RateLimiter
    policy: EgressPolicy
    # Per-channel state for the batch (an SMTP connection); closed by the sender.
    resources: dict[str, Any] = field(default_factory=dict)
    _origins: dict[tuple[str, str, int | None], ResolvedTarget | EgressDenied] = field(default_factory=dict)
    _resolving: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def guard(self, url: str) -> ResolvedTarget:
        """Check a subscriber-supplied URL, resolving each origin once per batch; raises EgressDenied."""
        parts = urlsplit(url)
        try:
            origin = (parts.scheme, parts.hostname or "", parts.port)
        except ValueError:
            raise EgressDenied("has an invalid port") from None
        checked = self._origins.get(origin)
        if checked is None:
            async with self._resolving:
                checked = self._origins.get(origin)
                if checked is None:
                    try:
                        checked = await asyncio.to_thread(check_url, url, self.policy)
                    except EgressDenied as exc:
                        checked = exc
                    self._origins[origin] = checked
        if isinstance(checked, EgressDenied):
            raise checked
        return pinned(url, checked)

    async def post(
        self, url: str, *, content: bytes, headers: Mapping[str, str], server_hostname: str | None = None
    ) -> HttpAnswer:
        """POST without following redirects; HttpFailure when there is no answer."""
        try:
            async with self.http.post(
                url, data=content, headers=dict(headers), allow_redirects=False, server_hostname=server_hostname
            ) as response:
                body = await response.read()
                return HttpAnswer(response.status, CIMultiDict(response.headers), body)
        except TimeoutError:
            raise HttpFailure("timed out") from None
        except aiohttp.ClientError as exc:
            raise HttpFailure(type(exc).__name__) from None

    async def post_json(
        self, url: str, document: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> HttpAnswer:
        """POST ``document`` as UTF-8 JSON to an operator-configured API (Telegram, Zalo)."""
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return await self.post(url, content=body, headers={"Content-Type": "application/json", **(headers or {})})

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


class UrlChannel:
    """A channel whose target is a URL the subscriber gives: checked by the egress guard."""

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        try:
            check_url(target, policy)
        except EgressDenied as exc:
            raise InvalidField("target", str(exc)) from None
        return target.strip()


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
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


def elapsed_ms(started: float) -> int:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading)."""
    return int((time.perf_counter() - started) * 1000)


RetryAfterReader = Callable[[HttpAnswer], float | None]


def classify(response: HttpAnswer, started: float, read_retry_after: RetryAfterReader | None = None) -> SendResult:
    """The common HTTP rule: 2xx ok; 3xx failure (never followed); 410 gone; 429/5xx back off."""
    duration = elapsed_ms(started)
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
        response = await context.post(
            target.url,
            content=content,
            headers={**headers, "Host": target.netloc},
            server_hostname=target.host if target.url.startswith("https") else None,
        )
    except HttpFailure as exc:
        return SendResult.failure(str(exc), duration_ms=elapsed_ms(started))
    return classify(response, started, read_retry_after)
