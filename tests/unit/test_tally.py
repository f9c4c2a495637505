"""In-process tallies give the metrics exactly what observing one by one gives, once flushed (decision 0046)."""

from __future__ import annotations

import random
import threading

from prometheus_client import CollectorRegistry, Counter, Histogram

from service.observability.metrics import FAST_BUCKETS
from service.observability.tally import CounterTally, HistogramTally


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_a_flushed_tally_equals_observing_one_by_one() -> None:
    direct, tallied = CollectorRegistry(), CollectorRegistry()
    counts = [Counter("c", "requests", ["route", "status"], registry=r) for r in (direct, tallied)]
    latencies = [Histogram("h", "latency", ["route"], buckets=FAST_BUCKETS, registry=r) for r in (direct, tallied)]
    count_tally, latency_tally = CounterTally(counts[1]), HistogramTally(latencies[1], FAST_BUCKETS)
    rng = random.Random(46)
    # Amounts on bucket bounds too: a bound belongs to its own bucket (le = "less or equal").
    amounts = [rng.choice([*FAST_BUCKETS, 0.0, 20.0]) for _ in range(300)] + [rng.uniform(0, 12) for _ in range(700)]
    for n, amount in enumerate(amounts):
        route, status = ("/feeds/{filename}", "/healthz")[n % 2], ("200", "304")[n % 3 == 0]
        counts[0].labels(route, status).inc()
        latencies[0].labels(route).observe(amount)
        count_tally.add(route, status)
        latency_tally.observe(amount, route)
    assert samples(tallied) == {}  # nothing written before the flush
    count_tally.flush()
    latency_tally.flush()
    expected, got = samples(direct), samples(tallied)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(got[key] - value) < 1e-9 * max(1.0, value), key
    # A second flush writes nothing more.
    count_tally.flush()
    latency_tally.flush()
    assert samples(tallied) == got


def test_counts_added_from_threads_while_flushing_are_all_kept() -> None:
    registry = CollectorRegistry()
    counter = Counter("c", "requests", ["route"], registry=registry)
    tally = CounterTally(counter)
    stop = threading.Event()

    def flushing() -> None:
        while not stop.is_set():
            tally.flush()

    def adding() -> None:
        for _ in range(20_000):
            tally.add("/healthz")

    flusher = threading.Thread(target=flushing)
    flusher.start()
    adders = [threading.Thread(target=adding) for _ in range(4)]
    for thread in adders:
        thread.start()
    for thread in adders:
        thread.join()
    stop.set()
    flusher.join()
    tally.flush()
    assert registry.get_sample_value("c_total", {"route": "/healthz"}) == 80_000
