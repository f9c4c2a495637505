"""The broker is only a transport. With Redis or RabbitMQ down at publish time the
article is stored, and the feeds catch up once the broker is back (empty); with the
broker down when the roles start, they wait for it instead of exiting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.rabbitmq import VirtualHost
from tests.integration.stack import PrivateRedis, Stack, wait_until


class Broker:
    """A broker a test can stop and start again, empty: a private Redis server, or a
    RabbitMQ vhost of our own (deleting it drops every queue and connection in it)."""

    def __init__(self, kind: str) -> None:
        self.vhost = VirtualHost() if kind == "rabbitmq" else None
        self.redis = PrivateRedis() if kind == "redis" else None
        self.url = self.vhost.url if self.vhost else self.redis.url  # type: ignore[union-attr]
        # host:port only: logs name the broker without credentials, path or query (redacted).
        self.where = self.url.split("@")[-1].split("//")[-1].split("/")[0]
        self.up = False

    def start(self) -> None:
        if self.vhost:
            self.vhost.create()
        elif self.redis:
            self.redis.start()
        self.up = True

    def kill(self) -> None:
        if self.vhost and self.up:
            self.vhost.delete()
        elif self.redis:
            self.redis.kill()
        self.up = False

    def stack(self, database: str, log_dir: Path) -> Stack:
        """A stack on this broker; with RabbitMQ, rate limits stay in the test Redis."""
        redis_url = self.url if self.redis else REDIS_URL
        return Stack(database, redis_url, log_dir, BANTIN_BROKER_URL=self.url)


@pytest.fixture(params=["redis", "rabbitmq"])
def outage_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Stack, Broker]]:
    name = f"bantin_it_outage_{uuid.uuid4().hex[:8]}"
    broker = Broker(request.param)
    broker.start()
    stack = broker.stack(create_database(name), tmp_path / "outage")
    try:
        stack.start_all()
        yield stack, broker
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop_all()
        broker.kill()
        drop_database(name)


def test_publish_with_the_broker_down_then_feeds_catch_up(outage_stack: tuple[Stack, Broker]) -> None:
    stack, broker = outage_stack
    token = stack.create_token("publish")
    client = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    broker.kill()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"].startswith("unreachable")
    assert ready.json()["checks"]["database"] == "ok"

    started = time.monotonic()
    response = client.post("/api/v1/articles", json={"title": "Tin khi Redis ngừng", "body_html": "<p>a</p>"})
    assert response.status_code == 201, response.text
    assert time.monotonic() - started < 5, "a dead broker must not hold the request"
    article = response.json()
    assert client.get(f"/api/v1/articles/{article['id']}").json()["status"] == "published"
    time.sleep(1)
    assert article["guid"] not in client.get("/feeds/atom.xml").text

    broker.start()  # same address, empty: every message sent before is gone
    wait_until(lambda: article["guid"] in client.get("/feeds/atom.xml").text, 45, "the feed to catch up", 0.25)
    assert client.get("/readyz").status_code == 200
    client.close()


@pytest.mark.parametrize("kind", ["rabbitmq", "redis"])
def test_every_role_waits_for_a_broker_that_is_down_at_start(kind: str, tmp_path: Path) -> None:
    broker = Broker(kind)  # not started yet
    name = f"bantin_it_late_{uuid.uuid4().hex[:8]}"
    stack = broker.stack(create_database(name), tmp_path / "late")
    try:
        assert stack.run("db", "upgrade").returncode == 0
        worker, beat = stack.start("worker", "worker"), stack.start("beat", "beat")
        stack.start_api()  # the API serves without a broker; readiness says what is missing

        def waited_twice(role: str) -> bool:
            log = (tmp_path / "late" / f"{role}.log").read_text(errors="replace")
            waits = [line for line in log.splitlines() if f"{role} is waiting for the broker at " in line]
            assert all("guest@" not in line for line in waits), "the broker password reached the log"
            return len([line for line in waits if broker.where in line]) >= 2

        wait_until(lambda: waited_twice("worker") and waited_twice("beat"), 60, "both roles to wait and retry", 0.2)
        assert worker.poll() is None and beat.poll() is None, "a role exited instead of waiting"
        ready = httpx.get(f"{stack.base_url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["broker"].startswith("unreachable: ")

        broker.start()
        worker_log = tmp_path / "late" / "worker.log"
        wait_until(lambda: b" ready." in worker_log.read_bytes(), 90, "the worker to start once the broker is up", 0.2)
        wait_until(lambda: httpx.get(f"{stack.base_url}/readyz").status_code == 200, 30, "readiness", 0.2)
        token = stack.create_token("publish")
        client = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
        created = client.post("/api/v1/articles", json={"title": "Tin khi broker trở lại", "body_html": "<p>a</p>"})
        assert created.status_code == 201, created.text
        guid = created.json()["guid"]
        wait_until(lambda: guid in client.get("/feeds/atom.xml").text, 45, "the feed", 0.25)
        client.close()
        assert "the broker at" in (tmp_path / "late" / "beat.log").read_text() and beat.poll() is None
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop_all()
        broker.kill()
        drop_database(name)
