"""Every metric a Bantin process counts itself, and the few calls that record them.

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` units). Labels
are bounded: a route *template*, a task name, a channel, an outcome, a feed scope that
exists. Queue depths and statuses are not here: they are read from the database at
scrape time (:mod:`service.observability.database`), once, by the API.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from service.channels.messages import OutboundMessage, SendResult

# Seconds: sub-millisecond cache hits up to a feed render or a slow batch.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds from an announcement to a receiver's 2xx: seconds normally, hours when retried.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 180.0)

HTTP_REQUESTS = Counter(
    "bantin_http_requests", "API requests answered, by route template and status.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "bantin_http_request_duration_seconds",
    "API request latency, by route template.",
    ["method", "route"],
    buckets=FAST_BUCKETS,
)
FEED_REQUESTS = Counter(
    "bantin_feed_requests",
    "Feed GETs answered from stored bytes, by feed, format and status (200 or 304).",
    ["feed", "format", "status"],
)
FEED_RENDER = Histogram(
    "bantin_feed_render_duration_seconds", "Time to render one feed document.", ["format"], buckets=FAST_BUCKETS
)
DELIVERIES = Counter(
    "bantin_deliveries",
    "Delivery attempts by channel and outcome (delivered, failed, gone, deferred).",
    ["channel", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "bantin_delivery_latency_seconds",
    "From the announcement to the receiver's acceptance, by channel (retries included).",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
DELIVERY_ATTEMPT_DURATION = Histogram(
    "bantin_delivery_attempt_duration_seconds", "One send to a receiver, by channel.", ["channel"], buckets=FAST_BUCKETS
)
TASK_DURATION = Histogram(
    "bantin_task_duration_seconds", "Celery task run time, by task name.", ["task"], buckets=TASK_BUCKETS
)
TASK_FAILURES = Counter("bantin_task_failures", "Celery tasks that raised, by task name.", ["task"])
DELIVERIES_PURGED = Counter("bantin_deliveries_purged", "Delivered rows deleted by the retention job.")


OUTCOMES = ("delivered", "failed", "gone", "deferred")


def outcome_of(result: SendResult) -> str:
    """One word per way an attempt can end; ``failed`` ones are retried unless the schedule is spent."""
    if result.deferred:
        return "deferred"
    if result.ok:
        return "delivered"
    return "gone" if result.gone else "failed"


def record_deliveries(
    messages: Sequence[OutboundMessage], results: Sequence[SendResult], finished: float | None = None
) -> None:
    """Count one batch's attempts; ``finished`` is a Unix time (default: now)."""
    finished = time.time() if finished is None else finished
    for message, result in zip(messages, results, strict=True):
        DELIVERIES.labels(message.channel, outcome_of(result)).inc()
        if result.deferred:
            continue
        DELIVERY_ATTEMPT_DURATION.labels(message.channel).observe(result.duration_ms / 1000)
        if result.ok:
            DELIVERY_LATENCY.labels(message.channel).observe(max(0.0, finished - message.created_at))
