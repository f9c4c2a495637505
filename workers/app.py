"""The Celery app, built from the settings object. Every option says why it is set."""

from __future__ import annotations

from celery import Celery
from kombu.entity import Exchange
from kombu.entity import Queue as KombuQueue

from config.settings import Settings, get_settings
from workers.queues import Queue


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery("bantin", broker=settings.effective_broker_url, include=["workers.tasks", "workers.maintenance"])
    app.conf.update(
        # JSON only: tasks take ids, and pickle from a broker is code execution.
        task_serializer="json",
        accept_content=["json"],
        # Results live in the database; a result backend would only be another store to lose.
        task_ignore_result=True,
        result_backend=None,
        # Explicit queues; a task routed to an undeclared queue is an error, not a new queue.
        task_queues=[KombuQueue(q.value, Exchange(q.value, type="direct"), routing_key=q.value) for q in Queue],
        task_default_queue=Queue.EVENTS.value,
        task_create_missing_queues=False,
        # Acknowledge after the work is done, and give a message back if the worker
        # process dies: a killed worker must not lose an event (tasks are idempotent).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message in hand per process: short tasks, and a slow one must not hold
        # others hostage in its prefetch buffer.
        worker_prefetch_multiplier=1,
        # Soft limit below the hard one so a task can roll back and log before it is killed.
        task_soft_time_limit=120,
        task_time_limit=180,
        # Redis re-delivers an unacknowledged message after this; longer than any task,
        # and no task is ever sent with an ETA or countdown (DESIGN.md decision 2).
        broker_transport_options={
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            # A producer (the API relay, beat) gives up on a dead broker after one retry
            # instead of blocking: the outbox row is safe and the sweep re-sends it.
            "max_retries": 1,
            "interval_start": 0,
        },
        broker_connection_retry_on_startup=True,
        # Our logging config stays ours.
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
    )
    return app


# Beat entry name → task. Every task only finds rows that are due, so running one twice
# (two beats, or a slow tick overlapping the next) does no harm.
PERIODIC_TASKS = {
    "events-sweep": "events.sweep",
    "articles-publish-due": "articles.publish_due",
    "deliveries-sweep": "deliveries.sweep",
    "websub-maintain": "websub.maintain",
    "calendar-tick": "calendar.tick",
    "deliveries-purge": "deliveries.purge",
}


def beat_schedule(settings: Settings) -> dict[str, dict[str, object]]:
    """Each periodic task every BANTIN_SWEEP_INTERVAL_SECONDS on the maintenance queue.

    ``expires``: a tick not started within one interval is dropped; the next one covers it.
    """
    every = settings.sweep_interval_seconds
    return {
        name: {"task": task, "schedule": every, "options": {"queue": Queue.MAINTENANCE.value, "expires": every}}
        for name, task in PERIODIC_TASKS.items()
    }


app = create_app()
