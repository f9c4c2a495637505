"""Celery signal handlers: task context for logs, run time and failures by task name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import workers.maintenance  # noqa: F401  (registers deliveries.purge)
import workers.observability as signals_module
from service.observability import multiprocess
from service.observability.logs import context
from workers.tasks import dispatch_event, send_delivery_batch, verify_websub_intent


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_task_arguments_that_are_context_fields_are_bound_for_the_run() -> None:
    signals_module.task_started(task_id="t-1", task=dispatch_event, args=[42], kwargs={})
    assert context() == {"task_id": "t-1", "task_name": "events.dispatch", "event_id": 42}
    signals_module.task_finished(task_id="t-1", task=dispatch_event)
    assert context() == {}
    signals_module.task_started(task_id="t-2", task=verify_websub_intent, args=[], kwargs={"subscription_id": 7})
    assert context()["subscription_id"] == 7
    signals_module.task_finished(task_id="t-2", task=verify_websub_intent)
    # A list of ids is not one id: nothing but the task itself is bound.
    signals_module.task_started(task_id="t-3", task=send_delivery_batch, args=[["a", "b"]], kwargs={})
    assert context() == {"task_id": "t-3", "task_name": "deliveries.send_batch"}
    signals_module.task_finished(task_id="t-3", task=send_delivery_batch)


def test_wrong_arguments_still_run_and_are_timed() -> None:
    before = sample("bantin_task_duration_seconds_count", task="websub.verify")
    signals_module.task_started(task_id="t-4", task=verify_websub_intent, args=[1, 2, 3], kwargs={})
    assert context() == {"task_id": "t-4", "task_name": "websub.verify"}
    signals_module.task_finished(task_id="t-4", task=verify_websub_intent)
    assert sample("bantin_task_duration_seconds_count", task="websub.verify") == before + 1


def test_failures_are_counted_by_task_name() -> None:
    before = sample("bantin_task_failures_total", task="events.dispatch")
    signals_module.task_failed(sender=dispatch_event)
    assert sample("bantin_task_failures_total", task="events.dispatch") == before + 1


def test_multiprocess_directory_must_be_chosen_before_prometheus_client_is_imported(tmp_path: Path) -> None:
    # The unit suite imported prometheus_client long ago: refusing is the point.
    with pytest.raises(RuntimeError, match="before prometheus_client is imported"):
        multiprocess.use_directory(tmp_path / "metrics")
    assert multiprocess.ENV not in os.environ
    multiprocess.process_exited(os.getpid())  # not in multiprocess mode: nothing to do


def test_multiprocess_directory_is_emptied_and_used_by_children(tmp_path: Path) -> None:
    """In a fresh interpreter, as ``bantin worker`` starts: stale samples go, new ones are files."""
    import subprocess
    import sys

    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_99999.db").write_bytes(b"stale samples of a previous run")
    script = (
        "import sys; from pathlib import Path\n"
        "from service.observability import multiprocess\n"
        "multiprocess.use_directory(Path(sys.argv[1]))\n"
        "from service.observability.metrics import TASK_FAILURES\n"
        "TASK_FAILURES.labels('events.dispatch').inc()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != multiprocess.ENV}
    done = subprocess.run([sys.executable, "-c", script, str(directory)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in directory.iterdir())
    assert "counter_99999.db" not in files and any(name.startswith("counter_") for name in files)
