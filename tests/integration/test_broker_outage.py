"""DESIGN.md decision 1: the broker is only a transport. With Redis down at publish
time the article is stored, and the feeds catch up once Redis is back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import create_database, drop_database
from tests.integration.stack import PrivateRedis, Stack, wait_until


@pytest.fixture
def outage_stack(tmp_path: Path) -> Iterator[tuple[Stack, PrivateRedis]]:
    name = f"bantin_it_outage_{uuid.uuid4().hex[:8]}"
    broker = PrivateRedis()
    broker.start()
    stack = Stack(create_database(name), broker.url, tmp_path / "outage")
    try:
        stack.start_all()
        yield stack, broker
    finally:
        stack.stop_all()
        broker.kill()
        drop_database(name)


def test_publish_with_the_broker_down_then_feeds_catch_up(outage_stack: tuple[Stack, PrivateRedis]) -> None:
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

    broker.start()  # same port, empty: every message sent before is gone
    wait_until(lambda: article["guid"] in client.get("/feeds/atom.xml").text, 45, "the feed to catch up", 0.25)
    assert client.get("/readyz").status_code == 200
    client.close()
