"""Slow third parties do not delay feeds (issue 18, item 9; decision 0031).

WebSub subscribers whose servers hold every request open: content distribution (two
batches) and verifications of intent, more calls than the stack has sending processes.
A publish must still reach ``/feeds/atom.xml`` while every one of those calls is open:
the worker that renders feeds takes none of them. Asserted on order (the article is
served before any held call has been answered), not on a time.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.conftest import create_database, drop_database
from tests.integration.stack import PrivateRedis, Stack, wait_until
from tests.integration.websub_callbacks import CallbackServer

# Longer than the test waits for the feed: a render queued behind these calls would not make it.
HELD_SECONDS = 90


class SlowSubscribers:
    """Callbacks under ``/fast/…`` confirm intent at once; those under ``/slow/…`` hold the
    verification; every content POST is held. Held calls are released by :meth:`release`."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.posts_received = 0
        self.answered_held = 0
        self.server = CallbackServer(self._wait)
        self.base = self.server.base

    def _wait(self, method: str, path: str) -> None:
        if method == "GET" and not path.startswith("/slow/"):
            return
        if method == "POST":
            with self.lock:
                self.posts_received += 1
        self.released.wait(HELD_SECONDS)
        with self.lock:
            self.answered_held += 1

    def release(self) -> None:
        self.released.set()

    def stop(self) -> None:
        self.release()
        self.server.stop()


@pytest.fixture
def slow_stack(tmp_path: Path) -> Iterator[tuple[Stack, SlowSubscribers]]:
    subscribers = SlowSubscribers()
    broker = PrivateRedis()  # its own broker: the session stack's workers must not take these tasks
    broker.start()
    name = f"bantin_it_slow_{uuid.uuid4().hex[:8]}"
    stack = Stack(
        create_database(name),
        broker.url,
        tmp_path / "stack",
        BANTIN_EGRESS_ALLOW="127.0.0.1/32",
        # Two content batches per publish, each held by its callbacks as long as we hold them.
        BANTIN_DELIVERY_BATCH_SIZE="2",
        BANTIN_DELIVERY_TIMEOUT_SECONDS=str(HELD_SECONDS),
        BANTIN_TASK_TIME_LIMIT_SECONDS="240",
    )
    try:
        with stack.running() as running:
            yield running, subscribers
    finally:
        subscribers.stop()
        broker.kill()
        drop_database(name)


def test_a_publish_reaches_the_feed_while_every_sending_process_waits_on_slow_subscribers(
    slow_stack: tuple[Stack, SlowSubscribers],
) -> None:
    stack, subscribers = slow_stack
    try:
        _publish_behind_slow_subscribers(stack, subscribers)
    except BaseException:
        print(stack.logs())  # the fixture's stack does not see the test's failure
        raise


def _publish_behind_slow_subscribers(stack: Stack, subscribers: SlowSubscribers) -> None:
    token = stack.create_token("publish")
    client = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    topic = f"{stack.base_url}/feeds/atom.xml"
    wait_until(lambda: httpx.get(topic).status_code == 200, 30, "the site feed")

    def subscribe(callback: str) -> None:
        form = {"hub.mode": "subscribe", "hub.callback": callback, "hub.topic": topic}
        assert httpx.post(f"{stack.base_url}/websub", data=form).status_code == 202

    for n in range(4):
        subscribe(f"{subscribers.base}/fast/{n}")
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
    verified = "SELECT count(*) FROM subscriptions WHERE channel = 'websub' AND status = 'active'"
    with engine.connect() as connection:
        wait_until(lambda: connection.execute(text(verified)).scalar_one() == 4, 30, "four verified subscribers", 0.2)
    engine.dispose()

    first = client.post("/api/v1/articles", json={"title": "Tin thứ nhất", "body_html": "<p>Một.</p>"})
    assert first.status_code == 201, first.text
    # Every content POST of the first publish is open now: two batches, as many as there are
    # sending processes, each waiting on its callbacks.
    wait_until(lambda: subscribers.posts_received >= 4, 30, "the held content POSTs", 0.1)
    for n in range(2):  # and new subscribers whose verification hangs, queued behind them
        subscribe(f"{subscribers.base}/slow/{n}")

    second = client.post("/api/v1/articles", json={"title": "Tin thứ hai", "body_html": "<p>Hai.</p>"})
    assert second.status_code == 201, second.text
    guid = second.json()["guid"]
    wait_until(lambda: guid in httpx.get(topic).text, 45, "the second article in the feed", 0.1)
    # Served while not one held call has been answered: the render did not wait for them.
    assert subscribers.answered_held == 0
    subscribers.release()
    client.close()
