"""The same end-to-end tests, with RabbitMQ as the broker instead of Redis.

This module brings up its own stack whose ``BANTIN_BROKER_URL`` is a RabbitMQ vhost of
its own (Redis stays, for rate limits), and overrides the ``stack`` fixture and the
clients built on it. The tests imported below are the Redis suite's own functions:
pytest collects them here too and resolves their fixtures in this module, so publish →
feed, webhook delivered and the worker killed in the middle of a fan-out run unchanged
on RabbitMQ. A reminder test of its own moves the calendar's clock file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.rabbitmq import VirtualHost
from tests.integration.receivers import Receivers
from tests.integration.stack import Stack, wait_until
from tests.integration.test_calendar import HANOI
from tests.integration.test_channels import (  # noqa: F401 - collected here, on RabbitMQ
    test_webhook_is_signed_per_standard_webhooks_and_carries_the_article,
)
from tests.integration.test_delivery_reliability import (  # noqa: F401 - collected here, on RabbitMQ
    test_kill_9_the_worker_in_the_middle_of_a_2000_subscriber_fan_out,
)
from tests.integration.test_health import assert_health
from tests.integration.test_publishing import (  # noqa: F401 - collected here, on RabbitMQ
    test_published_article_reaches_site_and_category_feeds_within_two_seconds,
    test_scheduled_article_is_published_by_beat_exactly_once,
)


@pytest.fixture(scope="module")
def vhost() -> Iterator[VirtualHost]:
    created = VirtualHost()
    created.create()
    yield created
    created.delete()


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rabbitmq-clock") / "clock"
    path.write_text(datetime(2027, 1, 4, 7, 0, tzinfo=HANOI).isoformat())
    return path


@pytest.fixture(scope="module")
def stack(
    vhost: VirtualHost, redis_url: str, receivers: Receivers, clock: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    name = f"bantin_it_rabbitmq_{uuid.uuid4().hex[:8]}"
    stack = Stack(
        create_database(name),
        redis_url,
        tmp_path_factory.mktemp("stack-rabbitmq"),
        **ANNOUNCEMENT_TEST_SETTINGS,
        **receivers.env(),
        BANTIN_BROKER_URL=vhost.url,
        BANTIN_CLOCK_FILE=str(clock),
    )
    try:
        with stack.running() as running:
            yield running
    finally:
        drop_database(name)


def test_the_stack_really_runs_on_rabbitmq_with_quorum_queues(stack: Stack, vhost: VirtualHost) -> None:
    assert stack.env["BANTIN_BROKER_URL"].startswith("amqp://")
    ready = httpx.get(f"{stack.base_url}/readyz").json()
    assert ready["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}
    types = vhost.queue_types()
    assert {types.get(q) for q in ("events", "deliveries", "maintenance")} == {"quorum"}, types


def test_health_checks_work_over_rabbitmq(stack: Stack) -> None:
    assert_health(stack)


def test_a_reminder_is_sent_on_its_day(stack: Stack, admin: httpx.Client, receivers: Receivers, clock: Path) -> None:
    path = f"/hooks/reminder-{uuid.uuid4().hex[:8]}"
    created = admin.post(
        "/api/v1/subscriptions",
        json={"channel": "webhook", "target": f"{receivers.base}{path}", "events": ["reminder.due"]},
    )
    assert created.status_code == 201, created.text
    try:
        # 08:00 on 4/1/2027 is 30 days before the Party's founding day, 3/2/2027.
        clock.write_text(datetime(2027, 1, 4, 8, 0, 30, tzinfo=HANOI).isoformat())

        def founding_reminders() -> list[dict[str, Any]]:
            bodies = [r.json()["data"] for r in receivers.got(path)]
            return [b for b in bodies if b["reminder"]["key_date_id"] == "thanh-lap-dang"]

        [reminder] = wait_until(founding_reminders, 20, "the 30-day reminder over RabbitMQ", 0.2)
        assert reminder["reminder"]["days_before"] == 30
        assert reminder["reminder"]["occurrence_date"] == "2027-02-03"
    finally:
        admin.delete(f"/api/v1/subscriptions/{created.json()['id']}")
