"""Per-request counts and latencies added up in this process, written to prometheus-client
once per interval (decision 0046).

In multiprocess mode (``bantin api``, decision 13) every ``inc`` and ``observe`` of
prometheus-client takes a lock and writes a memory-mapped file, and ``labels()`` looks the
child up under another lock: per request, one count, one latency (a bucket and the sum)
and a feed's count were about a fifth of what Bantin added to the fastest answers
(bench/README.md, ``bench.http_inprocess``). A :class:`CounterTally` or
:class:`HistogramTally` keeps the same figures in a dictionary per label tuple instead
(one uncontended lock, a ``bisect`` for the bucket) and :func:`flush` writes what was
added since the last flush to the real metric: one ``inc`` per label tuple and bucket
touched. The figures a scrape shows are exactly those of observing one by one, up to
:data:`FLUSH_SECONDS` late; the API flushes every :data:`FLUSH_SECONDS`, before it
answers ``/metrics`` (so its own process is never late there) and at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from bisect import bisect_left
from collections.abc import Callable

from prometheus_client import Counter, Histogram

# How late a scrape may see another API process's requests (Prometheus scrapes every 15 s or more).
FLUSH_SECONDS = 1.0
_tallies: list[CounterTally | HistogramTally] = []


class CounterTally:
    """``counter.labels(*labels).inc()`` per :meth:`add`, written at :func:`flush`."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, ...], int] = {}
        _tallies.append(self)

    def add(self, *labels: str) -> None:
        """One more for ``labels`` (as many as the counter's label names, in their order)."""
        with self._lock:
            pending = self._pending
            pending[labels] = pending.get(labels, 0) + 1

    def flush(self) -> None:
        """Write what was added since the last flush; the counter's totals become exact."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for labels, count in pending.items():
            self.counter.labels(*labels).inc(count)


class HistogramTally:
    """``histogram.labels(*labels).observe(amount)`` per :meth:`observe`, written at :func:`flush`.

    Keeps, per label tuple, how many amounts fell in each bucket (up to its bound, above
    the previous one, as the client's ``_buckets`` count them) and their sum.
    """

    def __init__(self, histogram: Histogram, buckets: tuple[float, ...]) -> None:
        self.histogram = histogram
        self._bounds = [*buckets, math.inf]
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, ...], _Row] = {}
        _tallies.append(self)

    def observe(self, amount: float, *labels: str) -> None:
        """One observation of ``amount`` (seconds, for a ``_seconds`` histogram) for ``labels``."""
        index = bisect_left(self._bounds, amount)
        with self._lock:
            row = self._pending.get(labels)
            if row is None:
                row = self._pending[labels] = _Row(len(self._bounds))
            row.counts[index] += 1
            row.total += amount

    def flush(self) -> None:
        """Write what was observed since the last flush: one write per bucket touched and one to the sum.

        Uses the client's per-bucket values (``_buckets``, ``_sum``), as
        ``service.observability.metrics.observe_all`` does (tests/unit/test_metrics.py).
        """
        with self._lock:
            pending, self._pending = self._pending, {}
        for labels, row in pending.items():
            child = self.histogram.labels(*labels)
            for index, count in enumerate(row.counts):
                if count:
                    child._buckets[index].inc(count)
            child._sum.inc(row.total)


class _Row:
    """One label tuple's observations since the last flush: per bucket, and their sum."""

    __slots__ = ("counts", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets
        self.total = 0.0


def flush() -> None:
    """Write every tally of this process to its metric (cheap when nothing was added)."""
    for tally in _tallies:
        tally.flush()


async def flush_every(seconds: float = FLUSH_SECONDS, also: Callable[[], None] | None = None) -> None:
    """Flush every ``seconds`` until cancelled, then once more (the API's lifespan runs it);
    ``also``: another in-process buffer written on the same beat (the access lines)."""
    try:
        while True:
            await asyncio.sleep(seconds)
            _each(flush, also)
    finally:
        _each(flush, also)


def _each(*flushes: Callable[[], None] | None) -> None:
    """Run every flush; one that fails is logged and does not stop the others or the loop."""
    for one in flushes:
        if one is None:
            continue
        try:
            one()
        except Exception:
            logging.getLogger(__name__).exception("flushing %s failed", getattr(one, "__qualname__", one))
