"""The one module that sends messages to the broker.

Work is sent by its stable task name (``service.task_names``); ``workers/app.py``
routes each name to its queue. Sending happens after a commit (``session_scope`` calls
the installed sender), so a task never sees an id whose row is not committed.

Best effort, with ``retry=False``: the caller may be a request or a CLI command, and a
broker that is down must not hold it. A failure is logged once and the rest left to
the beat sweeps (``events.sweep``, ``deliveries.sweep``, ``websub.maintain``), which
find every unfinished row again; nothing here raises.
"""

from __future__ import annotations

import logging

from celery import Celery

from config.settings import get_settings
from service.db import after_commit
from service.db.after_commit import Deferred
from workers.app import app as celery_app

log = logging.getLogger(__name__)


def batches(ids: list[str], size: int) -> list[list[str]]:
    """``ids`` cut into lists of at most ``size``, in order."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def messages(deferred: Deferred, batch_size: int) -> list[tuple[str, tuple[object, ...]]]:
    """(task name, args) for every message the deferred work turns into."""
    out = list(deferred.tasks)
    for name, ids in deferred.batched.items():
        out += [(name, (batch,)) for batch in batches(ids, batch_size)]
    return out


def send(deferred: Deferred, app: Celery = celery_app) -> int:
    """Send the messages; returns how many went out. Stops at the first broker failure."""
    pending = messages(deferred, get_settings().delivery_batch_size)
    for sent, (name, args) in enumerate(pending):
        try:
            app.send_task(name, args=list(args), retry=False)
        except Exception as exc:  # noqa: BLE001 - any broker failure means "the sweeps will do it"
            log.warning("broker unreachable, %d message(s) left for the sweeps: %s", len(pending) - sent, exc)
            return sent
    return len(pending)


def install() -> None:
    """Make this process send deferred work after each commit (API, CLI and worker start-up)."""
    after_commit.install(send)


def warm_relay(app: Celery = celery_app) -> None:
    """Open the broker connection at start, not on the first publish after the response.

    Left cold, the first publish of a process paid for connecting to the broker on the
    publish → feed path. A broker that is down now is the sweeps' business later.
    """
    try:
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the events wait in the outbox
        log.warning("broker not reachable at start (events will be relayed when it is): %s", exc)
