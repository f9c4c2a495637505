"""Delivery metrics written per batch equal those written per delivery."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.samples import Sample

from service.announcements.message import Message
from service.channels.messages import OutboundMessage, SendResult, ready
from service.observability.metrics import (
    DELIVERIES,
    DELIVERY_ATTEMPT_DURATION,
    DELIVERY_LATENCY,
    observe_all,
    record_deliveries,
)


def samples(registry: CollectorRegistry) -> list[Sample]:
    return sorted(
        (s for metric in registry.collect() for s in metric.samples if not s.name.endswith("_created")),
        key=lambda s: (s.name, sorted(s.labels.items())),
    )


def test_observe_all_equals_observing_one_by_one() -> None:
    rng = random.Random(9)
    bounds = (0.01, 0.1, 0.5, 1.0, 5.0)
    # Exactly on a bound, below the first, above the last, and everything between.
    amounts = [0.0, 0.01, 0.1, 5.0, 7.5, *(rng.uniform(0, 6) for _ in range(500))]
    one_by_one, grouped = CollectorRegistry(), CollectorRegistry()
    first = Histogram("x_seconds", "x", ["channel"], buckets=bounds, registry=one_by_one)
    second = Histogram("x_seconds", "x", ["channel"], buckets=bounds, registry=grouped)
    for amount in amounts:
        first.labels("webhook").observe(amount)
    observe_all(second.labels("webhook"), amounts)
    observe_all(second.labels("webhook"), [])
    expected, got = samples(one_by_one), samples(grouped)
    assert [(s.name, s.labels) for s in got] == [(s.name, s.labels) for s in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert abs(mine.value - theirs.value) < 1e-9, (mine, theirs)


def _message(n: int, channel: str) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=f"msg_{n}",
        subscription_id=n,
        channel=channel,
        target="",
        event_type="article.published",
        compose=ready(Message(data={})),
        created_at=1_000.0,
    )


def test_a_batch_is_counted_per_channel_and_outcome() -> None:
    def value(metric: object, *labels: str, suffix: str = "") -> float:
        child = metric.labels(*labels)  # type: ignore[attr-defined]
        if suffix == "count":
            return float(sum(bucket.get() for bucket in child._buckets))
        return float(child._value.get())

    messages = [_message(n, "webhook" if n % 2 else "telegram") for n in range(6)]
    results = [
        SendResult(ok=True, status_code=204, duration_ms=12),
        SendResult(ok=True, status_code=200, duration_ms=30),
        SendResult.failure("HTTP 500", 500, duration_ms=5),
        SendResult.failure("HTTP 410", 410, gone=True, duration_ms=5),
        SendResult.failure("later", retry_after=3.0, deferred=True),
        SendResult(ok=True, status_code=204, duration_ms=1),
    ]
    before = {
        ("webhook", "delivered"): value(DELIVERIES, "webhook", "delivered"),
        ("telegram", "failed"): value(DELIVERIES, "telegram", "failed"),
        ("webhook", "gone"): value(DELIVERIES, "webhook", "gone"),
        ("telegram", "deferred"): value(DELIVERIES, "telegram", "deferred"),
    }
    durations = value(DELIVERY_ATTEMPT_DURATION, "webhook", suffix="count")
    latencies = value(DELIVERY_LATENCY, "webhook", suffix="count")
    record_deliveries(messages, results, finished=1_010.0)
    assert value(DELIVERIES, "webhook", "delivered") - before[("webhook", "delivered")] == 2
    assert value(DELIVERIES, "telegram", "failed") - before[("telegram", "failed")] == 1
    assert value(DELIVERIES, "webhook", "gone") - before[("webhook", "gone")] == 1
    assert value(DELIVERIES, "telegram", "deferred") - before[("telegram", "deferred")] == 1
    # A deferred attempt was not made: no duration. Only delivered ones have a latency.
    assert value(DELIVERY_ATTEMPT_DURATION, "webhook", suffix="count") - durations == 3
    assert value(DELIVERY_LATENCY, "webhook", suffix="count") - latencies == 2
