"""Waiting for a broker that is not there yet: a real closed port, no mocks of kombu."""

from __future__ import annotations

import logging
import socket

import pytest

from config.settings import Settings
from workers.app import create_app
from workers.broker import broker_problem, retry_delay, wait_for_broker


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("scheme", ["amqp://guest:hunter2@", "redis://:hunter2@"])
def test_waits_logging_the_broker_without_its_password_and_the_next_delay(
    scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(broker_url=f"{scheme}127.0.0.1:{closed_port()}/0", redis_url="redis://127.0.0.1:1/0"))
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 2:  # "the broker comes up": from now on the app talks to kombu's in-memory broker
            app.conf.broker_url = "memory://"

    caplog.set_level(logging.INFO, "bantin.broker")
    assert wait_for_broker(app, "worker", sleep=sleep) == 2
    assert delays == [1, 2]
    waiting = [r.getMessage() for r in caplog.records if "is waiting for the broker" in r.getMessage()]
    assert len(waiting) == 2
    assert "worker is waiting for the broker at " in waiting[0] and "127.0.0.1" in waiting[0]
    assert "Connection refused" in waiting[0] and "trying again in 1 s" in waiting[0]
    assert "hunter2" not in caplog.text
    assert "worker: the broker at memory://" in caplog.text


def test_broker_problem_is_none_when_it_answers() -> None:
    assert broker_problem(create_app(Settings(broker_url="memory://"))) is None


def test_the_delay_doubles_up_to_thirty_seconds() -> None:
    assert [retry_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
