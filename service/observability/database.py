"""Queue depths read from the database at scrape time: the source of truth, exported once.

Only the API's ``/metrics`` serves these (worker processes would each export the same
figures, and a sum over them would be wrong). Every query is bounded so that a scrape
every 15 seconds stays cheap when the delivery log holds tens of millions of rows:

* deliveries by status count only rows whose latest attempt was due in the last hour
  (or is due later), one index range per status on ``(status, next_attempt_at)``: a
  recent window, not the whole log. The lifetime totals are the workers'
  ``bantin_deliveries_total`` counters; a table of counts kept by the writing
  statements would be exact but would add a hot row every batch must update.
* active subscriptions are counted at most every five minutes per API process; the
  other statuses (paused, disabled, pending) on every scrape.
* backlogs (retries waiting, deliveries due, reminders due, unhandled events) are
  index ranges over the rows still to do, which stay small while the service keeps up
  and are exactly what an operator must see when it does not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.engine import UnitOfWork
from service.db.models import (
    Delivery,
    DeliveryStatus,
    Reminder,
    ReminderStatus,
    Subscription,
    SubscriptionStatus,
)
from service.events.outbox import outbox_oldest_unfinished

log = logging.getLogger(__name__)
RECENT_DELIVERIES = timedelta(hours=1)
# Events handled but not yet announced are looked for among this many newest events
# (no index serves ``announced_at IS NULL``; the id range does, and one lost announcement
# is re-sent by the sweep long before ten thousand newer events exist).
# Missed reminders (found due past the grace period, never sent) count for a week: long
# enough for an operator to see the alert, short enough for it to clear by itself.
MISSED_REMINDERS = timedelta(days=7)


def recent_deliveries_by_status(session: Session, now: datetime) -> dict[str, int]:
    """Deliveries whose latest attempt was due within :data:`RECENT_DELIVERIES` of ``now`` or later."""
    since = now - RECENT_DELIVERIES
    return {
        status.value: session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == status, Delivery.next_attempt_at >= since)
        )
        or 0
        for status in DeliveryStatus
    }


# Counting active subscriptions reads one index entry per subscription (≈160 ms at a
# million, bench/metrics_scrape.py); they change slowly, so that count is refreshed at
# most this often per API process. The other statuses are few and counted every scrape.
ACTIVE_COUNT_TTL_SECONDS = 300.0


@dataclass
class _ActiveCounts:
    at: float = float("-inf")  # time.monotonic() of the last count
    counts: dict[tuple[str, str], int] = field(default_factory=dict)


_active = _ActiveCounts()


def subscriptions_by_status(session: Session, ttl: float = ACTIVE_COUNT_TTL_SECONDS) -> dict[tuple[str, str], int]:
    """(status, channel) → count: exact for every status but active, which may be ``ttl`` seconds old."""

    def by_channel(status: SubscriptionStatus) -> dict[tuple[str, str], int]:
        rows = session.execute(
            select(Subscription.channel, func.count())
            .where(Subscription.status == status)
            .group_by(Subscription.channel)
        )
        return {(status.value, channel): n for channel, n in rows}

    counts: dict[tuple[str, str], int] = {}
    for status in SubscriptionStatus:
        if status is not SubscriptionStatus.ACTIVE:
            counts.update(by_channel(status))
    if time.monotonic() - _active.at >= ttl:
        _active.counts, _active.at = by_channel(SubscriptionStatus.ACTIVE), time.monotonic()
    return counts | _active.counts


@dataclass(frozen=True)
class QueueSnapshot:
    outbox_lag_seconds: float
    retry_backlog: int
    due_backlog: int
    reminders_due: int
    reminders_missed: int
    subscriptions: dict[tuple[str, str], int]  # (status, channel) → count
    recent_deliveries: dict[str, int]  # status → count


def snapshot(session: Session, now: datetime) -> QueueSnapshot:
    """Everything the collector exports, as plain data (tested without Prometheus)."""
    oldest = outbox_oldest_unfinished(session)
    pending = Delivery.status == DeliveryStatus.PENDING

    def count(*where: Any) -> int:
        return session.scalar(select(func.count()).select_from(Delivery).where(*where)) or 0

    return QueueSnapshot(
        outbox_lag_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        retry_backlog=count(pending, Delivery.attempts > 0),
        due_backlog=count(pending, Delivery.next_attempt_at <= now),
        reminders_due=session.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.status == ReminderStatus.PLANNED, Reminder.due_at <= now)
        )
        or 0,
        reminders_missed=session.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.status == ReminderStatus.MISSED, Reminder.due_at >= now - MISSED_REMINDERS)
        )
        or 0,
        subscriptions=subscriptions_by_status(session),
        recent_deliveries=recent_deliveries_by_status(session, now),
    )


class DatabaseCollector(Collector):
    """A prometheus-client collector that runs :func:`snapshot` on every scrape."""

    def __init__(self, unit_of_work: UnitOfWork, clock: Callable[[], datetime]) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The database gauges of one scrape; only ``bantin_database_up`` 0 when the queries fail."""
        up = GaugeMetricFamily("bantin_database_up", "1 when the database answered this scrape's queries.")
        try:
            with self.unit_of_work() as session:
                data = snapshot(session, self.clock())
        except Exception:  # a scrape must answer; the failure is the figure
            log.exception("metrics: database queries failed")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "bantin_outbox_lag_seconds",
            "Age of the oldest event not yet rendered or announced (0: none).",
            value=data.outbox_lag_seconds,
        )
        yield GaugeMetricFamily(
            "bantin_delivery_retry_backlog",
            "Pending deliveries that failed before and wait to retry.",
            value=data.retry_backlog,
        )
        yield GaugeMetricFamily(
            "bantin_delivery_due_backlog",
            "Pending deliveries whose time has come, not yet sent.",
            value=data.due_backlog,
        )
        yield GaugeMetricFamily(
            "bantin_reminders_due_unsent", "Anniversary reminders due and not yet sent.", value=data.reminders_due
        )
        yield GaugeMetricFamily(
            "bantin_reminders_missed",
            "Reminders due in the last 7 days that were missed (found too late to send).",
            value=data.reminders_missed,
        )
        subscriptions = GaugeMetricFamily(
            "bantin_subscriptions", "Subscriptions by status and channel.", labels=["status", "channel"]
        )
        for (status, channel), n in sorted(data.subscriptions.items()):
            subscriptions.add_metric([status, channel], n)
        yield subscriptions
        recent = GaugeMetricFamily(
            "bantin_recent_deliveries",
            "Deliveries by status whose latest attempt was due in the last hour or is due later.",
            labels=["status"],
        )
        for status, n in data.recent_deliveries.items():
            recent.add_metric([status], n)
        yield recent
