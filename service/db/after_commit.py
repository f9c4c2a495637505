"""Work to send once the unit of work has committed, and never if it rolls back.

Domain code records "send task X with these arguments" on the session; ``session_scope``
hands the list to the installed sender after a successful commit and drops it on a
rollback, so a worker never receives an id whose row is not there yet. This module
does not know about Celery: the shell process (API, CLI, worker) installs the sender
(``workers.relay.install``). With no sender installed the work is left to the beat
sweeps, which find every unfinished row again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "bantin.after_commit"


@dataclass
class Deferred:
    """What one unit of work asked for: single tasks in order, and ids to send in batches."""

    tasks: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    # Task name → ids; the sender splits each list into batches (one message per batch).
    batched: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tasks) or any(self.batched.values())


Sender = Callable[[Deferred], object]
_sender: Sender | None = None


def install(sender: Sender | None) -> None:
    """Set the process's sender (None: leave everything to the sweeps)."""
    global _sender
    _sender = sender


def _deferred(session: Session) -> Deferred:
    deferred = session.info.get(_KEY)
    if deferred is None:
        deferred = session.info[_KEY] = Deferred()
    return deferred


def defer(session: Session, task_name: str, *args: object) -> None:
    """Send ``task_name(*args)`` after this session commits. Arguments must be JSON values."""
    _deferred(session).tasks.append((task_name, args))


def defer_batched(session: Session, task_name: str, ids: Iterable[str]) -> None:
    """Send ``task_name(batch)`` for batches of ``ids`` after this session commits."""
    _deferred(session).batched.setdefault(task_name, []).extend(ids)


def pending(session: Session) -> Deferred:
    """What the session will send on commit (for tests and logs); empty if nothing."""
    deferred: Deferred = session.info.get(_KEY) or Deferred()
    return deferred


def take(session: Session) -> Deferred:
    """Remove and return what the session collected."""
    deferred: Deferred = session.info.pop(_KEY, None) or Deferred()
    return deferred


def send(deferred: Deferred) -> None:
    """Hand committed work to the sender. Never raises: the rows are safe, the sweeps retry."""
    if not deferred:
        return
    if _sender is None:
        log.debug("no sender installed; %s left for the sweeps", deferred)
        return
    _sender(deferred)
