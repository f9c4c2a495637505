"""Waiting for the broker before a role starts consuming or scheduling.

A worker or beat started while RabbitMQ or Redis is still down (a machine boot, a
compose or Kubernetes rollout where the broker comes up last) waits here, logging one
line per try that names the broker (without its password) and the next delay, instead
of exiting and being restarted in a loop by systemd, Kubernetes or ``bantin up``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery import Celery

log = logging.getLogger("bantin.broker")
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0


def broker_problem(app: Celery, timeout: float = 3.0) -> str | None:
    """None when the broker accepts a connection, else a short reason such as
    ``ConnectionRefusedError: [Errno 111] Connection refused``."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is "not reachable", with its reason
        cause = exc.__cause__ or exc
        return f"{type(cause).__name__}: {cause}"
    return None


def broker_display_url(app: Celery) -> str:
    """The broker URL with the password masked, for logs and messages."""
    with app.connection_for_write() as connection:
        return str(connection.as_uri())


def retry_delay(failures: int) -> float:
    """Seconds to wait after ``failures`` failed tries (1 or more): 1, 2, 4 … capped at 30."""
    return min(FIRST_DELAY_SECONDS * float(2 ** (failures - 1)), MAX_DELAY_SECONDS)


def wait_for_broker(app: Celery, role: str, sleep: Callable[[float], None] = time.sleep) -> int:
    """Block until the broker answers; returns how many tries failed first.

    Delays double from 1 s up to 30 s between tries; never gives up (see the module doc).
    """
    failures = 0
    while (problem := broker_problem(app)) is not None:
        failures += 1
        delay = retry_delay(failures)
        log.warning(
            "%s is waiting for the broker at %s (%s); trying again in %.0f s",
            *(role, broker_display_url(app), problem, delay),
        )
        sleep(delay)
    if failures:
        log.info("%s: the broker at %s is reachable; starting", role, broker_display_url(app))
    return failures
