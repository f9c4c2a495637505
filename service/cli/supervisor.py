"""``bantin up``: API, worker and beat (and the embedded Redis) supervised together.

Children run in their own sessions so that a terminal's Ctrl-C reaches only us; we
then stop them in order. A child that dies is reaped (no zombie), the rest of its
process group is killed (a worker's pool processes must not outlive their parent), and
it is started again after a back-off that doubles with each recent death. Only a child
that keeps dying — ``max_deaths`` within ``window_seconds`` — ends the supervisor, with a
message naming it: restarting it forever would hide the fault behind a healthy-looking
process list.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from config.settings import Settings
from service.cli import embedded_redis

log = logging.getLogger("bantin.up")
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.2


@dataclass
class Child:
    """One supervised process: ``start`` returns it running (and, for Redis, answering)."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes] | None = None
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


@dataclass(frozen=True)
class Policy:
    """Restart policy: back-off ``first_backoff * 2**(n-1)`` capped at ``max_backoff`` seconds
    for the n-th death inside the window; ``max_deaths`` deaths inside ``window_seconds`` end it."""

    max_deaths: int = 5
    window_seconds: float = 60.0
    first_backoff: float = 0.5
    max_backoff: float = 15.0


class GaveUp(Exception):
    """A child kept dying; the message says which and how often."""


def role_command(*args: str, env: dict[str, str] | None = None) -> Callable[[], subprocess.Popen[bytes]]:
    """A starter for ``bantin <args>`` in its own session (its own process group), with ``env``
    added to this process's environment."""

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", *args], env={**os.environ, **(env or {})}, start_new_session=True
        )

    return start


def run(settings: Settings, host: str, port: int) -> int:
    """Start the roles (and the embedded Redis when no broker is configured) and supervise them.

    Returns the exit code: 0 after SIGINT/SIGTERM, 1 when a child kept dying.
    """
    children: list[Child] = []
    if not (settings.redis_url or settings.broker_url):
        socket_path = settings.embedded_redis_socket
        children.append(Child("redis", lambda: embedded_redis.start(socket_path)))
        log.info("embedded Redis on %s", socket_path)
    # Two workers (decision 0031): one renders feeds, the other waits on subscribers'
    # servers, so a flood of slow WebSub callbacks never holds a process a render needs.
    # The second serves its metrics on the next port (none when metrics are off).
    outbound_metrics = str(settings.metrics_port + 1 if settings.metrics_port else 0)
    children += [
        Child("worker", role_command("worker", "--queues", "events,maintenance")),
        Child(
            "sender",
            role_command("worker", "--queues", "deliveries,websub", env={"BANTIN_METRICS_PORT": outbound_metrics}),
        ),
        Child("beat", role_command("beat")),
        Child("api", role_command("api", "--host", host, "--port", str(port), "--no-migrate")),
    ]
    return Supervisor(children).run(
        on_started=lambda: log.info(
            "Bantin is up on http://%s:%d (feeds at /feeds/atom.xml, API docs at /docs)", host, port
        )
    )


class Supervisor:
    """Runs ``children`` until SIGINT/SIGTERM, restarting any that dies (see the module doc)."""

    def __init__(self, children: list[Child], policy: Policy | None = None) -> None:
        self.children = children
        self.policy = policy or Policy()
        self.stopping = False

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        """Start every child in order, then supervise until stopped; 0 on a requested stop, 1 on giving up."""
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():  # tests drive it from a thread
            previous = {sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                self._start(child)
            if on_started is not None:
                on_started()
            while not self.stopping:
                self._tick(time.monotonic())
                time.sleep(POLL_SECONDS)
        except GaveUp as exc:
            log.error("%s; stopping Bantin", exc)
            print(f"bantin up: {exc}", file=sys.stderr)
            return 1
        finally:
            # Stop in reverse start order: the API first (no new work), the broker last.
            for child in reversed(self.children):
                if child.process is not None:
                    _stop(child.name, child.process)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.stopping = True

    def _start(self, child: Child) -> None:
        child.restart_at = None
        try:
            child.process = child.start()
        except (OSError, RuntimeError) as exc:  # the embedded Redis did not come up, say
            child.process = None
            self._record_death(child, time.monotonic(), f"could not start: {exc}")
            return
        log.info("started %s (pid %d)", child.name, child.process.pid)

    def _tick(self, now: float) -> None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:  # poll() reaps it
                code = child.process.returncode
                _kill_group(child.process.pid)
                child.process = None
                self._record_death(child, now, _describe_exit(code))
            elif child.process is None and child.restart_at is not None and now >= child.restart_at:
                log.info("restarting %s", child.name)
                self._start(child)

    def _record_death(self, child: Child, now: float, why: str) -> None:
        policy = self.policy
        child.deaths.append(now)
        while child.deaths and now - child.deaths[0] > policy.window_seconds:
            child.deaths.popleft()
        count = len(child.deaths)
        if count >= policy.max_deaths:
            raise GaveUp(
                f"{child.name} died {count} times within {policy.window_seconds:.0f} s (last: {why}); "
                f"giving up — see its log lines above"
            )
        delay = min(policy.first_backoff * 2 ** (count - 1), policy.max_backoff)
        child.restart_at = now + delay
        log.error(
            "%s %s; restarting it in %.1f s (%d of %d deaths within %.0f s before giving up)",
            *(child.name, why, delay, count, policy.max_deaths, policy.window_seconds),
        )


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _kill_group(pgid: int) -> None:
    """Kill what is left of a dead child's session (a prefork worker's pool, uvicorn's workers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _stop(name: str, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        _kill_group(process.pid)
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop within %.0f s; killing it", name, STOP_TIMEOUT_SECONDS)
        process.kill()
        process.wait()
    _kill_group(process.pid)
