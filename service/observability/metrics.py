"""Every metric a Bantin process counts itself, and the few calls that record them.

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` units). Labels
are bounded: a route *template*, a task name, a channel, an outcome, a feed scope that
exists. Queue depths and statuses are not here: they are read from the database at
scrape time (:mod:`service.observability.database`), once, by the API.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

from service.observability.tally import CounterTally, HistogramTally

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
# Counted per request on the API's fastest paths, so added up in-process and written once
# per interval (service/observability/tally.py, decision 0046): requests are recorded
# through these tallies only.
HTTP_REQUESTS_TALLY = CounterTally(HTTP_REQUESTS)
HTTP_DURATION_TALLY = HistogramTally(HTTP_DURATION, FAST_BUCKETS)
FEED_REQUESTS_TALLY = CounterTally(FEED_REQUESTS)
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
    """Count one batch's attempts; ``finished`` is a Unix time (default: now).

    Grouped per channel and outcome first, then written once per group: in
    multiprocess mode every ``inc`` and ``observe`` is a locked write to a memory-mapped
    file, and one per delivery cost a worker about as much CPU as signing and claiming
    together (bench/README.md, fan-out).
    """
    finished = time.time() if finished is None else finished
    counts: dict[tuple[str, str], int] = defaultdict(int)
    durations: dict[str, list[float]] = defaultdict(list)
    latencies: dict[str, list[float]] = defaultdict(list)
    for message, result in zip(messages, results, strict=True):
        counts[(message.channel, outcome_of(result))] += 1
        if result.deferred:
            continue
        durations[message.channel].append(result.duration_ms / 1000)
        if result.ok:
            latencies[message.channel].append(max(0.0, finished - message.created_at))
    for (channel, outcome), count in counts.items():
        DELIVERIES.labels(channel, outcome).inc(count)
    for channel, amounts in durations.items():
        observe_all(DELIVERY_ATTEMPT_DURATION.labels(channel), amounts)
    for channel, amounts in latencies.items():
        observe_all(DELIVERY_LATENCY.labels(channel), amounts)


def observe_all(histogram: Histogram, amounts: Sequence[float]) -> None:
    """``histogram.observe(a)`` for every ``a`` in ``amounts``, as one write per bucket
    touched and one to the sum.

    Uses the client's per-bucket values (``_upper_bounds``, ``_buckets``, ``_sum``:
    unchanged since prometheus-client 0.4, and tests/unit/test_metrics.py compares the
    result with observing one by one). A bucket counts the observations up to its bound
    and above the previous one; the exposition accumulates them.
    """
    if not amounts:
        return
    bounds = histogram._upper_bounds
    per_bucket: dict[int, int] = defaultdict(int)
    for amount in amounts:
        per_bucket[bisect_left(bounds, amount)] += 1
    for index, count in per_bucket.items():
        histogram._buckets[index].inc(count)
    histogram._sum.inc(math.fsum(amounts))
