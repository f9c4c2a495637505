"""From an HTTP answer to a ``SendResult``: the common rule, Retry-After, timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

from service.channels.base import SendContext
from service.channels.egress import EgressDenied
from service.channels.gone import GoneReader, http_gone
from service.channels.http import HttpAnswer, HttpFailure
from service.channels.messages import SendResult
from service.db.types import utcnow

# Statuses that mean "later, please": honour Retry-After and back off.
BACK_OFF_STATUSES = frozenset({429, 502, 503, 504})
RetryAfterReader = Callable[[HttpAnswer], float | None]
# The status a service means when it wraps a failure in a 2xx answer (Teams connectors).
StatusReader = Callable[[HttpAnswer], int]


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date, RFC 9110 §10.2.3), or None."""
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


def classify(
    response: HttpAnswer,
    started: float,
    read_retry_after: RetryAfterReader | None = None,
    read_gone: GoneReader = http_gone,
    read_status: StatusReader | None = None,
) -> SendResult:
    """The common HTTP rule: 2xx ok; 3xx failure (never followed); what ``read_gone`` calls
    gone (410 unless the channel reads more) ends or pauses; 429/5xx back off.

    ``read_status``: for a service that answers 200 to a failure and names the status it
    means in the body: that status decides (back off, retry); the attempt keeps the status
    that came over the wire and the body as its words, as the log should show what was said."""
    duration = elapsed_ms(started)
    status = response.status_code
    meant = read_status(response) if read_status else status
    if 200 <= meant < 300:
        return SendResult(ok=True, status_code=status, duration_ms=duration)
    if 300 <= meant < 400:
        return SendResult.failure(
            f"redirect to {response.headers.get('location', '?')} not followed", status, duration_ms=duration
        )
    reason = f"HTTP {status}: {response.text[:120]}".strip()
    gone = read_gone(response)
    if gone is not None:
        return SendResult.failure(reason, status, gone=gone, duration_ms=duration)
    retry_after = None
    if meant in BACK_OFF_STATUSES:
        retry_after = read_retry_after(response) if read_retry_after else retry_after_seconds(response.headers)
    return SendResult.failure(reason, status, retry_after=retry_after, duration_ms=duration)


async def post_guarded(
    context: SendContext,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    read_retry_after: RetryAfterReader | None = None,
    read_gone: GoneReader = http_gone,
    read_status: StatusReader | None = None,
) -> SendResult:
    """POST to a subscriber-supplied URL through the egress guard, timing and classifying it."""
    started = time.perf_counter()
    try:
        target = await context.http.guard(url)
    except EgressDenied as exc:
        return SendResult.failure(f"egress denied: {exc}")
    try:
        response = await context.http.post_pinned(target, content=content, headers=headers)
    except HttpFailure as exc:
        return SendResult.failure(str(exc), duration_ms=elapsed_ms(started))
    return classify(response, started, read_retry_after, read_gone, read_status)
