"""Send committed outbox events to the broker. Only ever called after the commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from workers.queues import Queue

log = logging.getLogger(__name__)


def relay_events(event_ids: Iterable[int]) -> int:
    """Best effort: a failure is logged and left to the beat sweep, which will resend.

    ``retry=False``: the caller is a request or a CLI command, and a broker that is down
    must not hold it; the event row is already safe in the database.
    """
    from workers.tasks import dispatch_event

    sent = 0
    for event_id in event_ids:
        try:
            dispatch_event.apply_async(args=[event_id], queue=Queue.EVENTS.value, retry=False)
            sent += 1
        except Exception as exc:  # noqa: BLE001 - any broker failure means "the sweep will do it"
            log.warning("broker unreachable, event %s left for the sweep: %s", event_id, exc)
            break
    return sent


def warm_relay() -> None:
    """Import the tasks and open the broker connection at start, not after the first publish.

    The relay runs after the response, on the publish → feed path: left cold, the first
    publish of a process paid for importing the Celery tasks (about 0.5 s here, more on a
    fresh clone that compiles them to bytecode) and for connecting to the broker.
    """
    from workers.tasks import dispatch_event

    try:
        with dispatch_event.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001 - a broker that is down now is the sweep's business later
        log.warning("broker not reachable at start (events will be relayed when it is): %s", exc)


def enqueue_deliveries(delivery_ids: Sequence[str]) -> int:
    """Send delivery ids in batches; rows not sent are found again by the due-sweep."""
    from config.settings import get_settings
    from service.deliveries.sweep import batches
    from workers.tasks import send_delivery_batch

    sent = 0
    for batch in batches(list(delivery_ids), get_settings().delivery_batch_size):
        try:
            send_delivery_batch.apply_async(args=[batch], queue=Queue.DELIVERIES.value, retry=False)
            sent += len(batch)
        except Exception as exc:  # noqa: BLE001 - the sweep re-sends whatever did not go out
            log.warning("broker unreachable, %d deliveries left for the sweep: %s", len(delivery_ids) - sent, exc)
            break
    return sent
