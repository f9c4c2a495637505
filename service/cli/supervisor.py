"""``bantin up``: API, worker and beat (and the embedded Redis) supervised together.

Children run in their own sessions so that a terminal's Ctrl-C reaches only us; we
then stop them in order. If any child dies, everything stops and we exit non-zero:
a half-running service that looks healthy is worse than a clear failure.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from config.settings import Settings
from service.cli import embedded_redis

log = logging.getLogger("bantin.up")
STOP_TIMEOUT_SECONDS = 15.0


def _role(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "service.cli.main", *args], env=env, start_new_session=True)


def run(settings: Settings, host: str, port: int) -> int:
    env = dict(os.environ)
    redis_process = None
    if not (settings.redis_url or settings.broker_url):
        redis_process = embedded_redis.start(settings.embedded_redis_socket)
        log.info("embedded Redis on %s", settings.embedded_redis_socket)
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        log.info("received %s, stopping", signal.Signals(signum).name)
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    try:
        children["worker"] = _role(["worker"], env)
        children["beat"] = _role(["beat"], env)
        children["api"] = _role(["api", "--host", host, "--port", str(port), "--no-migrate"], env)
        log.info("Bantin is up on http://%s:%d (feeds at /feeds/atom.xml, API docs at /docs)", host, port)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    log.error("%s exited with code %s; stopping the rest", name, child.returncode)
                    exit_code = 1
                    stopping = True
            time.sleep(0.2)
    finally:
        for name in ("api", "beat", "worker"):
            if name in children:
                _stop(name, children[name])
        if redis_process is not None:
            _stop("redis", redis_process)
    return exit_code


def _stop(name: str, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop within %.0f s; killing it", name, STOP_TIMEOUT_SECONDS)
        process.kill()
        process.wait()
