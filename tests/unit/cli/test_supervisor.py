"""The ``bantin up`` supervisor with real child processes (tiny Python programs)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.cli.supervisor import Child, Policy, Supervisor

FAST = Policy(max_deaths=3, window_seconds=60, first_backoff=0.01, max_backoff=0.05)


def python(code: str) -> Callable[[], subprocess.Popen[bytes]]:
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)

    return start


def wait_for(check: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this pid."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def running() -> Iterator[Callable[[Supervisor], None]]:
    threads: list[tuple[Supervisor, threading.Thread]] = []

    def start(supervisor: Supervisor) -> None:
        thread = threading.Thread(target=supervisor.run, daemon=True)
        thread.start()
        threads.append((supervisor, thread))

    yield start
    for supervisor, thread in threads:
        supervisor.stopping = True
        thread.join(timeout=30)


def test_a_child_killed_with_sigkill_is_reaped_and_started_again(
    running: Callable[[Supervisor], None], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "bantin.up")
    child = Child("sleeper", python("import time; time.sleep(120)"))
    running(Supervisor([child], FAST))
    wait_for(lambda: child.process is not None, "the first start")
    assert child.process is not None
    first = child.process.pid

    os.kill(first, signal.SIGKILL)
    wait_for(lambda: child.process is not None and child.process.pid != first, "the restart")
    assert gone(first), "the dead child was left a zombie"
    assert child.process is not None and child.process.poll() is None
    assert "sleeper was killed by SIGKILL; restarting it in" in caplog.text


def test_what_a_dead_child_leaves_in_its_group_is_killed(running: Callable[[Supervisor], None], tmp_path: Path) -> None:
    """Like a prefork worker's pool processes when the worker's main process is killed."""
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(120)"
    )
    child = Child("worker", python(code))
    running(Supervisor([child], FAST))
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the grandchild")
    grandchild = int(pid_file.read_text())
    assert child.process is not None
    first = child.process.pid

    os.kill(first, signal.SIGKILL)
    wait_for(lambda: child.process is not None and child.process.pid != first, "the restart")
    # The grandchild was re-parented (to init or a subreaper) and killed; it may linger as
    # that parent's zombie for a moment, but it must not keep running.
    wait_for(lambda: gone(grandchild) or _state(grandchild) == "Z", "the orphan to be killed")


def test_a_child_that_keeps_dying_ends_the_supervisor_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    steady = Child("steady", python("import time; time.sleep(120)"))
    flaky = Child("flaky", python("import sys; sys.exit(3)"))
    assert Supervisor([steady, flaky], FAST).run() == 1
    assert "bantin up: flaky died 3 times within 60 s (last: exited with code 3); giving up" in capsys.readouterr().err
    assert caplog.text.count("flaky exited with code 3; restarting it in") == 2
    # The others were stopped on the way out, not left behind.
    assert steady.process is not None and steady.process.returncode is not None


def test_deaths_outside_the_window_are_forgiven(running: Callable[[Supervisor], None]) -> None:
    """A child that dies now and then (here: 3 times, with a 0 s window) is restarted forever."""
    child = Child("rare", python("import sys; sys.exit(1)"))
    supervisor = Supervisor([child], Policy(max_deaths=2, window_seconds=0, first_backoff=0.01, max_backoff=0.01))
    running(supervisor)
    wait_for(lambda: len(child.deaths) == 1 and child.restart_at is not None, "a death")
    starts: set[int] = set()

    def started_three_times() -> bool:
        if child.process is not None:
            starts.add(child.process.pid)
        return len(starts) >= 3

    wait_for(started_three_times, "3 starts")
    assert not supervisor.stopping


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return ""


def test_bantin_up_runs_the_feed_worker_and_the_sender_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decision 0031: two workers, neither taking the other's queues; the sender on its own metrics port."""
    from config.settings import Settings
    from service.cli import supervisor

    commands: list[tuple[tuple[str, ...], dict[str, str]]] = []
    children: list[Child] = []

    def role_command(*args: str, env: dict[str, str] | None = None) -> Callable[[], subprocess.Popen[bytes]]:
        commands.append((args, env or {}))
        return lambda: subprocess.Popen(["true"])

    class Recorder:
        def __init__(self, given: list[Child]) -> None:
            children.extend(given)

        def run(self, on_started: object = None) -> int:
            return 0

    monkeypatch.setattr(supervisor, "role_command", role_command)
    monkeypatch.setattr(supervisor, "Supervisor", Recorder)
    supervisor.run(Settings(broker_url="redis://127.0.0.1:1/0", metrics_port=9808), "127.0.0.1", 8000)
    started = dict(zip((child.name for child in children), commands, strict=True))
    assert started["worker"] == (("worker", "--queues", "events,maintenance"), {})
    assert started["sender"] == (("worker", "--queues", "deliveries,websub"), {"BANTIN_METRICS_PORT": "9809"})


@pytest.mark.parametrize("queues", ["events,deliveries,maintenance", "events,websub", "maintenance,deliveries", "x"])
def test_a_worker_that_would_take_feeds_and_third_parties_work_refuses_to_start(queues: str) -> None:
    from typer.testing import CliRunner

    from service.cli.main import app

    result = CliRunner().invoke(app, ["worker", "--queues", queues])
    assert result.exit_code == 2
    assert "error: --queues: " in result.output
