"""When to try again: the Standard Webhooks schedule, with jitter, and Retry-After honoured."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

JITTER = 0.1


def next_attempt_at(
    now: datetime, attempts_made: int, schedule: Sequence[float], retry_after: float | None = None
) -> datetime | None:
    """The time of the next attempt after ``attempts_made`` failures, or None when the schedule is spent."""
    if attempts_made > len(schedule):
        return None
    # Jitter spreads retries of a big fan-out; it needs no cryptographic randomness.
    delay = schedule[attempts_made - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)
