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
    # WebSub: verification of intent and content distribution, both calls to subscribers'
    # servers that may take the whole timeout (decision 0031).
    WEBSUB = "websub"


# The queues a feed-rendering worker takes, and those of third parties' servers: no worker
# takes both (decision 0031), so a slow subscriber never holds a process a render needs.
FEED_QUEUES = (Queue.EVENTS, Queue.MAINTENANCE)
OUTBOUND_QUEUES = (Queue.DELIVERIES, Queue.WEBSUB)
# A worker's role names its Celery node (``feeds@host``, ``outbound@host``), so two workers
# on one machine are two nodes and ``bantin health worker`` can find either.
ROLES = {"feeds": FEED_QUEUES, "outbound": OUTBOUND_QUEUES}


def worker_role(names: list[str]) -> str:
    """The role of a worker taking the queues ``names``: ``feeds`` or ``outbound``.

    ValueError, naming the reason, for an unknown queue, none, or queues of both roles:
    a worker that renders feeds never takes a third party's work (decision 0031).
    """
    unknown = [name for name in names if name not in {q.value for q in Queue}]
    if unknown or not names:
        raise ValueError(f"unknown queue {', '.join(unknown)!s}" if unknown else "no queue given")
    for role, queues in ROLES.items():
        if all(name in {q.value for q in queues} for name in names):
            return role
    raise ValueError(
        "feed queues (events, maintenance) and third-party queues (deliveries, websub) need "
        "separate workers: a slow subscriber would otherwise hold a process that renders feeds"
    )
