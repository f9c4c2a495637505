"""Nothing lost, nothing doubled: failures, dead workers and an emptied broker."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text

from tests.integration.announce import Subscriber, deliveries_of, publish
from tests.integration.receivers import TELEGRAM_TOKEN, Receivers, always
from tests.integration.stack import Stack, wait_until


def statuses(admin: httpx.Client, subscription_id: int) -> list[str]:
    return [d["status"] for d in deliveries_of(admin, subscription_id)]


def delivered(admin: httpx.Client, subscription_id: int) -> Callable[[], bool]:
    """A check for ``wait_until``: the subscription's one delivery is delivered."""
    return lambda: statuses(admin, subscription_id) == ["delivered"]


def test_endpoints_failing_at_first_are_all_delivered_after_retries(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    subscriptions = []
    for n in range(20):
        path = f"/hooks/{unique}-{n}"
        if n % 10 < 3:  # 30 % answer 500 twice, then 204
            receivers.behaviours[path] = lambda i: (500, b"boom", {}) if i < 2 else (204, b"", {})
        subscriptions.append((path, subscriber.add("webhook", f"{receivers.base}{path}")["id"]))
    publish(publisher, unique)
    for path, subscription_id in subscriptions:
        wait_until(delivered(admin, subscription_id), 20, f"{path} delivered")
    flaky = [s for p, s in subscriptions if int(p.rsplit("-", 1)[1]) % 10 < 3]
    for subscription_id in flaky:
        [delivery] = deliveries_of(admin, subscription_id)
        assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 204]
    ids = {receivers.got(p)[0].headers["webhook-id"] for p, _ in subscriptions}
    for path, _ in subscriptions:  # retries carry the same webhook-id
        assert len({r.headers["webhook-id"] for r in receivers.got(path)}) == 1
    assert len(ids) == 20


def test_410_disables_the_subscription(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    path = f"/hooks/gone-{unique}"
    receivers.behaviours[path] = always(410)
    created = subscriber.add("webhook", f"{receivers.base}{path}")
    publish(publisher, unique)
    state = wait_until(
        lambda: (s := admin.get(f"/api/v1/subscriptions/{created['id']}").json())["status"] == "disabled" and s,
        10,
        "the subscription to be disabled",
    )
    assert "410" in state["status_reason"]
    assert statuses(admin, created["id"]) == ["failed"]
    time.sleep(2.5)
    assert len(receivers.got(path)) == 1  # never retried


def test_a_receiver_that_never_answers_costs_the_others_no_more_than_the_timeout(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    slow_path = f"/hooks/slow-{unique}"
    receivers.delays[slow_path] = 30
    slow = subscriber.add("webhook", f"{receivers.base}{slow_path}")
    fast = [subscriber.add("webhook", f"{receivers.base}/hooks/fast-{unique}-{n}")["id"] for n in range(5)]
    publish(publisher, unique)
    started = time.monotonic()
    wait_until(lambda: all(receivers.got(f"/hooks/fast-{unique}-{n}") for n in range(5)), 5, "the fast receivers")
    received_after = time.monotonic() - started
    for subscription_id in fast:
        wait_until(delivered(admin, subscription_id), 2 + 4, "fast deliveries recorded")
    recorded_after = time.monotonic() - started
    assert received_after < 2, "the fast receivers waited for the slow one"
    assert recorded_after < 2 + 4  # timeout (2 s) plus the time to record a batch
    [delivery] = wait_until(lambda: [d for d in deliveries_of(admin, slow["id"]) if d["attempts"]], 5, "slow attempt")
    assert delivery["attempt_log"][0]["error"] == "timed out"
    admin.patch(f"/api/v1/subscriptions/{slow['id']}", json={"status": "paused"})


def test_replay_and_recover_send_again_with_the_same_id(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    path = f"/hooks/replay-{unique}"
    created = subscriber.add("webhook", f"{receivers.base}{path}")
    publish(publisher, unique)
    [delivery] = wait_until(
        lambda: [d for d in deliveries_of(admin, created["id"]) if d["status"] == "delivered"], 5, "the first delivery"
    )
    assert admin.post(f"/api/v1/deliveries/{delivery['id']}/replay").status_code == 202
    wait_until(lambda: len(receivers.got(path)) == 2, 5, "the replay")
    assert {r.headers["webhook-id"] for r in receivers.got(path)} == {delivery["id"]}

    dead_path = f"/hooks/dead-{unique}"
    receivers.behaviours[dead_path] = always(500)
    dead = subscriber.add("webhook", f"{receivers.base}{dead_path}")
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    publish(publisher, unique, title="Bài thứ hai")
    wait_until(lambda: statuses(admin, dead["id"]) == ["failed"], 20, "the retries to run out")
    assert len(receivers.got(dead_path)) == 5  # the first attempt and four retries
    receivers.behaviours[dead_path] = always(204)
    requeued = admin.post(f"/api/v1/subscriptions/{dead['id']}/recover", params={"since": since})
    assert requeued.json() == {"requeued": 1}
    wait_until(lambda: statuses(admin, dead["id"]) == ["delivered"], 10, "the recovered delivery")
    assert admin.post(f"/api/v1/deliveries/msg_{'0' * 32}/replay").status_code == 404  # well-formed, unknown
    assert admin.post("/api/v1/deliveries/msg_nope/replay").status_code == 422  # not a delivery id at all


def test_telegram_rate_limit_spaces_messages_to_one_chat(
    publisher: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    chat_id = f"@chat{unique}"
    subscriber.add("telegram", chat_id)
    for n in range(3):
        publish(publisher, unique, title=f"Tin số {n}")

    def sent() -> list[Any]:
        return [r for r in receivers.got(f"/bot{TELEGRAM_TOKEN}/sendMessage") if r.json()["chat_id"] == chat_id]

    messages = wait_until(lambda: len(sent()) == 3 and sent(), 15, "three Telegram messages")
    gaps = [b.at - a.at for a, b in itertools.pairwise(messages)]
    assert min(gaps) >= 0.9, gaps  # at most one message per second per chat


def test_bad_subscriptions_are_refused_naming_the_field_and_nothing_is_stored(
    admin: httpx.Client, publisher: httpx.Client
) -> None:
    before = admin.get("/api/v1/subscriptions").json()["total"]
    cases = [
        ({"channel": "fax", "target": "x"}, "channel"),
        ({"channel": "webhook", "target": "not a url"}, "target"),
        ({"channel": "webhook", "target": "https://10.0.0.5/hook"}, "target"),
        ({"channel": "webhook", "target": "https://[::1]/hook"}, "target"),
        ({"channel": "webhook", "target": "http://8.8.8.8/hook"}, "target"),
        ({"channel": "webhook", "target": "https://user:pw@8.8.8.8/hook"}, "target"),
        ({"channel": "email", "target": "khong-phai-email"}, "target"),
        ({"channel": "telegram", "target": "chat 1"}, "target"),
        ({"channel": "zalo", "target": "abc"}, "target"),
        ({"channel": "webhook", "target": "https://8.8.8.8/h", "events": ["article.deleted"]}, "events.0"),
        ({"channel": "webhook", "target": "https://8.8.8.8/h", "colour": 1}, "colour"),
        ({"channel": "webhook", "target": "https://8.8.8.8/h", "locale": "fr"}, "locale"),
    ]
    for body, field in cases:
        response = admin.post("/api/v1/subscriptions", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in {e["field"] for e in response.json()["detail"]}, (body, response.json())
    private = admin.post("/api/v1/subscriptions", json={"channel": "webhook", "target": "https://10.0.0.5/hook"})
    assert "non-public address" in private.json()["detail"][0]["message"]
    assert admin.get("/api/v1/subscriptions").json()["total"] == before
    assert publisher.get("/api/v1/subscriptions").status_code == 403


def _create_many(admin: httpx.Client, receivers: Receivers, unique: str, count: int) -> list[int]:
    def create(n: int) -> int:
        body = {
            "channel": "webhook",
            "target": f"{receivers.base}/hooks/fan-{unique}-{n}",
            "categories": [f"Tin {unique}"],
        }
        response = admin.post("/api/v1/subscriptions", json=body)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(create, range(count)))


def _drop(stack: Stack, ids: list[int]) -> None:
    """Remove the fan-out's subscriptions once no batch is still working on them."""
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])

    def settled() -> bool:
        with engine.connect() as connection:
            busy: int = connection.execute(
                text(
                    "SELECT count(*) FROM deliveries WHERE subscription_id = ANY(:ids) "
                    "AND status IN ('pending', 'sending')"
                ),
                {"ids": ids},
            ).scalar_one()
        return busy == 0

    wait_until(settled, 60, "the fan-out's last batches to finish", 0.25)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM subscriptions WHERE id = ANY(:ids)"), {"ids": ids})
    engine.dispose()


def _fan_out_survives(
    stack: Stack,
    publisher: httpx.Client,
    admin: httpx.Client,
    receivers: Receivers,
    unique: str,
    count: int,
    disrupt: object,
) -> None:
    ids = _create_many(admin, receivers, unique, count)
    prefix = f"/hooks/fan-{unique}-"
    receivers.delays[prefix + "*"] = 0.15  # slow enough to disrupt the fan-out half-way
    try:
        publish(publisher, unique)
        wait_until(lambda: len(receivers.got_prefix(prefix)) >= count // 5, 30, "the fan-out to be under way")
        disrupt()  # type: ignore[operator]
        assert len(receivers.got_prefix(prefix)) < count, "the fan-out finished before the disruption"
        wait_until(lambda: len(receivers.got_prefix(prefix)) == count, 90, "every subscriber", 0.25)
        received = receivers.got_prefix(prefix)
        for items in received.values():  # a duplicate is recognisable: same webhook-id
            assert len({r.headers["webhook-id"] for r in items}) == 1
    finally:
        receivers.delays.pop(prefix + "*", None)
        _drop(stack, ids)


def test_kill_9_the_worker_in_the_middle_of_a_2000_subscriber_fan_out(
    stack: Stack, publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, unique: str
) -> None:
    def kill_worker_and_start_another() -> None:
        worker = stack.processes.pop("sender")  # the worker that sends (decision 0031)
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool, as kill -9 would
        worker.wait()
        stack.start_sender()

    _fan_out_survives(stack, publisher, admin, receivers, unique, 2000, kill_worker_and_start_another)


def test_flushall_in_the_middle_of_a_fan_out_is_finished_by_the_sweep(
    stack: Stack, publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, unique: str
) -> None:
    def flush() -> None:
        # FLUSHDB of the stack's own database: Redis forgetting every queued message and
        # rate-limit bucket, without touching the other databases of a shared server.
        redis.Redis.from_url(stack.env["BANTIN_REDIS_URL"]).flushdb()

    _fan_out_survives(stack, publisher, admin, receivers, unique, 1000, flush)
