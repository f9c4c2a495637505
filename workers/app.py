"""The Celery app, built from the settings object. Every option says why it is set."""

from __future__ import annotations

from celery import Celery
from kombu.entity import Exchange
from kombu.entity import Queue as KombuQueue

from config.settings import Settings, get_settings
from service import task_names
from workers.queues import Queue


def create_app(settings: Settings | None = None) -> Celery:
    """The Celery app: JSON only, no result backend, late acks, declared queues and routes by task name."""
    settings = settings or get_settings()
    on_rabbitmq = settings.broker_is_rabbitmq
    app = Celery("bantin", broker=settings.effective_broker_url, include=["workers.tasks", "workers.maintenance"])
    app.conf.update(
        # JSON only: tasks take ids, and pickle from a broker is code execution.
        task_serializer="json",
        accept_content=["json"],
        # Results live in the database; a result backend would only be another store to lose.
        task_ignore_result=True,
        result_backend=None,
        # Explicit queues; a task routed to an undeclared queue is an error, not a new queue.
        task_queues=[
            KombuQueue(q.value, Exchange(q.value, type="direct"), routing_key=q.value, **_queue_options(on_rabbitmq))
            for q in Queue
        ],
        task_default_queue=Queue.EVENTS.value,
        task_create_missing_queues=False,
        # Every task's queue, by its stable name: senders (the relay, beat) name the task only.
        task_routes={name: {"queue": queue.value} for name, queue in TASK_QUEUES.items()},
        # Acknowledge after the work is done, and give a message back if the worker
        # process dies: a killed worker must not lose an event (tasks are idempotent).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message in hand per process: short tasks, and a slow one must not hold
        # others hostage in its prefetch buffer.
        worker_prefetch_multiplier=1,
        # Soft limit below the hard one so a task can roll back and log before it is killed.
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_time_limit=settings.task_time_limit_seconds,
        broker_transport_options=_transport_options(on_rabbitmq, settings),
        broker_connection_retry_on_startup=True,
        # A worker that lost its broker keeps trying (with Celery's growing interval and a
        # log line per try) instead of exiting after 100 tries: exiting would only turn a
        # broker outage into a restart loop of every worker.
        broker_connection_max_retries=None,
        # Our logging config stays ours.
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
    )
    return app


TASK_QUEUES = {
    task_names.DISPATCH_EVENT: Queue.EVENTS,
    task_names.ANNOUNCE_EVENT: Queue.EVENTS,
    task_names.SEND_DELIVERY_BATCH: Queue.DELIVERIES,
    task_names.VERIFY_WEBSUB_INTENT: Queue.WEBSUB,
    task_names.DISTRIBUTE_WEBSUB: Queue.WEBSUB,
    task_names.SWEEP_EVENTS: Queue.MAINTENANCE,
    task_names.PUBLISH_DUE: Queue.MAINTENANCE,
    task_names.SWEEP_DELIVERIES: Queue.MAINTENANCE,
    task_names.MAINTAIN_WEBSUB: Queue.MAINTENANCE,
    task_names.CALENDAR_TICK: Queue.MAINTENANCE,
    task_names.PURGE_DELIVERIES: Queue.MAINTENANCE,
    task_names.DIGESTS_TICK: Queue.MAINTENANCE,
}


def _queue_options(on_rabbitmq: bool) -> dict[str, object]:
    """Queue declaration options per broker.

    RabbitMQ: quorum queues. They are durable (messages on disk survive a broker restart)
    and replicated over the cluster's nodes by Raft, so losing one RabbitMQ node loses no
    event id; classic mirrored queues, the old way to get that, are deprecated. Their
    known limits do not touch us: no task is ever sent with an ETA or countdown (the
    rows carry the schedule), and Celery turns off the global prefetch they refuse
    (``worker_detect_quorum_queues``). Redis has no queue types; its lists live as long
    as Redis does.
    """
    if not on_rabbitmq:
        return {}
    return {"durable": True, "queue_arguments": {"x-queue-type": "quorum"}}


def _transport_options(on_rabbitmq: bool, settings: Settings) -> dict[str, object]:
    """Transport options per broker.

    Both: a producer (the API relay, beat) gives up on a dead broker after one retry
    instead of blocking; the outbox row is safe and the sweep re-sends it.
    Redis: re-delivers an unacknowledged message after ``visibility_timeout``; longer
    than any task, and no task is ever sent with an ETA or countdown.
    RabbitMQ: publisher confirms. Without them ``basic_publish`` returns before the
    broker has the message, and a message dropped by a restarting or memory-blocked
    broker is lost silently; with them the relay only counts an event as sent once
    RabbitMQ has written it to the queue (and otherwise leaves it to the sweep).
    Unacknowledged messages go back to the queue when the worker's connection drops,
    so no visibility timeout is needed (RabbitMQ's consumer timeout, 30 min by default,
    is far above our 180 s task limit).
    """
    options: dict[str, object] = {"socket_connect_timeout": 3, "max_retries": 1, "interval_start": 0}
    if on_rabbitmq:
        options["confirm_publish"] = True
    else:
        options["visibility_timeout"] = max(3600, 2 * settings.task_time_limit_seconds)
    return options


# Beat entry name → task. Every task only finds rows that are due, so running one twice
# (two beats, or a slow tick overlapping the next) does no harm.
PERIODIC_TASKS = {
    "events-sweep": task_names.SWEEP_EVENTS,
    "articles-publish-due": task_names.PUBLISH_DUE,
    "deliveries-sweep": task_names.SWEEP_DELIVERIES,
    "websub-maintain": task_names.MAINTAIN_WEBSUB,
    "calendar-tick": task_names.CALENDAR_TICK,
    "deliveries-purge": task_names.PURGE_DELIVERIES,
    "digests-tick": task_names.DIGESTS_TICK,
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
