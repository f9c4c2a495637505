"""Celery signal handlers: logging stays ours, tasks are timed and counted, metrics are served.

Imported by ``bantin worker`` and ``bantin beat`` before Celery starts. Nothing here
touches a task's body: run time, failures and the log context come from signals.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
from contextvars import Token
from typing import Any

from celery import signals

from config.settings import get_settings
from service.channels.registry import CHANNELS
from service.observability import multiprocess
from service.observability.logs import CONTEXT_FIELDS, bind, unbind
from service.observability.metrics import DELIVERIES, OUTCOMES, TASK_DURATION, TASK_FAILURES

log = logging.getLogger(__name__)
_running: dict[str, tuple[float, Token[dict[str, Any] | None]]] = {}


@signals.setup_logging.connect
def keep_our_logging(**_: Any) -> None:
    """Connected at all, this tells Celery not to configure logging: the CLI already did
    (same formatter, role and redaction as every other role)."""


def _context_of(task: Any, args: Any, kwargs: Any) -> dict[str, Any]:
    """The task's arguments that are log context fields (``event_id``, ``subscription_id`` …)."""
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
    except (TypeError, ValueError):
        return {}
    return {name: value for name, value in bound.arguments.items() if name in CONTEXT_FIELDS}


@signals.task_prerun.connect
def task_started(task_id: str, task: Any, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    """Bind the task's id, name and id arguments (``event_id`` …) to the log context; start its clock."""
    token = bind(task_id=task_id, task_name=task.name, **_context_of(task, args, kwargs))
    _running[task_id] = (time.perf_counter(), token)


@signals.task_postrun.connect
def task_finished(task_id: str, task: Any, **_: Any) -> None:
    """Observe the task's duration and unbind its log context."""
    started = _running.pop(task_id, None)
    if started is None:
        return
    TASK_DURATION.labels(task.name).observe(time.perf_counter() - started[0])
    unbind(started[1])


@signals.task_failure.connect
def task_failed(sender: Any = None, **_: Any) -> None:
    """Count a failed task by name."""
    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


@signals.worker_ready.connect
def zero_counters(sender: Any = None, **_: Any) -> None:
    """Every task's failure counter and every channel × outcome exist from the start at 0,
    so that ``rate()`` and alerts see a series before the first failure, not a gap."""
    app = sender.app if sender is not None else None
    for name in getattr(app, "tasks", {}):
        if not name.startswith("celery."):
            TASK_FAILURES.labels(name)
    for channel in CHANNELS:
        for outcome in OUTCOMES:
            DELIVERIES.labels(channel, outcome)


@signals.worker_ready.connect
def serve_metrics(**_: Any) -> None:
    """The worker's main process serves the pool's summed samples on BANTIN_METRICS_PORT.

    A port already taken is logged, not fatal: deliveries matter more than their
    figures, and Prometheus's ``up`` shows the missing target.
    """
    settings = get_settings()
    if not settings.metrics_port:
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    try:
        start_http_server(settings.metrics_port, addr=settings.host, registry=registry)
    except OSError as exc:
        log.error("metrics: cannot listen on %s:%d: %s", settings.host, settings.metrics_port, exc)
        return
    log.info("metrics on http://%s:%d/metrics", settings.host, settings.metrics_port)


@signals.worker_process_shutdown.connect
def pool_process_exited(**_: Any) -> None:
    """Tell prometheus-client's multiprocess mode that this pool process is gone."""
    multiprocess.process_exited(os.getpid())
