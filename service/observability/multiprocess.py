"""prometheus-client's multiprocess mode for roles that run several processes.

Celery's prefork pool (and ``bantin api --workers N``) runs the code that counts in
child processes; a scrape reaches one port. In multiprocess mode every process writes
its samples to memory-mapped files in one directory and whoever serves the port sums
them. prometheus-client picks its storage when it is first imported, so the directory
must be chosen before anything imports it: the CLI calls :func:`use_directory` first.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_directory(path: Path) -> Path:
    """Empty ``path`` (samples of a previous run would be summed forever) and point this
    process and its children at it.

    Raises RuntimeError when prometheus-client was imported already: its samples would
    then stay in this process's memory and the served figures would be wrong, silently.
    """
    if "prometheus_client" in sys.modules and os.environ.get(ENV) != str(path):
        raise RuntimeError(f"{ENV} must be set before prometheus_client is imported")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    return path


def enabled() -> bool:
    """True when this process writes its samples to a multiprocess directory."""
    return bool(os.environ.get(ENV))


def process_exited(pid: int) -> None:
    """Drop a dead child's live-gauge files; its counters and histograms are kept and summed."""
    if enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
