"""The garbage collector: what a process made while starting is frozen once it has started.

Worker processes and API processes call :func:`freeze_long_lived` when they are ready.
A worker process holds hundreds of thousands of objects that live as long as it does
(every module, SQLAlchemy's mappers and compiled statements, Celery and kombu). CPython's
full (oldest-generation) collection walks all of them, and a delivery batch allocates
enough to trigger one every batch or two: 120–140 ms each in a pool process here, as long
as the batch's whole send phase (bench/README.md, 2026-11-30). ``gc.freeze`` moves every
object alive now into a permanent generation that no collection walks; objects made later
(a batch's messages, futures, responses) are collected as before, so nothing leaks that
would not otherwise (ARCHITECTURE.md decision 22). An API process is the same: about
180,000 startup objects, a full collection of 100–137 ms inside whichever requests were
running (bench/README.md, articles API).
"""

from __future__ import annotations

import gc

# Young-generation threshold: a batch of 500 sends allocates hundreds of thousands of
# short-lived objects; CPython's default (700) collects the young generation ~1,000 times
# per batch, walking the batch's live futures and responses each time. 10,000 lets most
# of them die by reference count first. The older generations keep their defaults.
YOUNG_THRESHOLD = 10_000


def freeze_long_lived() -> None:
    """Collect once, then exclude every surviving object from later collections.

    Call when a process has finished starting (imports, connections, warm-up): what
    exists then lives as long as the process.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
