"""Queue names. ``task_create_missing_queues`` is off, so a typo here fails loudly."""

from __future__ import annotations

import enum


class Queue(enum.StrEnum):
    # Event handling: feed renders. Latency-sensitive, kept apart from slow work.
    EVENTS = "events"
    # Delivery batches: network-bound, seconds long; kept off the events queue so a big
    # fan-out never delays a feed render.
    DELIVERIES = "deliveries"
    # Beat's periodic sweeps; short, and must not queue behind a burst of events.
    MAINTENANCE = "maintenance"
