"""Zalo Official Account followers, end to end: the real API, worker and beat on PostgreSQL
and Redis, and a local OA (``zalo_api.py``) that signs webhook events as Zalo does and
answers the message API as Zalo does.

follow (signed) → welcome, then an article published → its message reaches the follower;
unfollow → the next article sends nothing to them; "hủy" → ended and a reply; a forged
or unsigned event → 401 and nothing stored; an event delivered twice → handled once; the
OA API saying "not a follower" (-213) → the subscription ends and the log says why;
export and forget by follower id; no process logs a follower id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.receivers import Receivers
from tests.integration.stack import PrivateRedis, Stack, wait_until
from tests.integration.zalo_api import Sent, ZaloOa


@pytest.fixture(scope="module")
def oa() -> Iterator[ZaloOa]:
    server = ZaloOa()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(receivers: Receivers, oa: ZaloOa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: its Zalo API is the local OA, and its app knows the OA's secret key.

    Its own database and its own Redis: the session's main stack shares the machine's Redis,
    and its worker would take this stack's deliveries and send them to the wrong Zalo API.
    """
    name = f"bantin_it_zalo_{uuid.uuid4().hex[:8]}"
    env = {**ANNOUNCEMENT_TEST_SETTINGS, **receivers.env(), **oa.env()}
    broker = PrivateRedis()
    broker.start()
    stack = Stack(create_database(name), broker.url, tmp_path_factory.mktemp("stack-zalo"), **env)
    try:
        with stack.running() as running:
            yield running
    finally:
        broker.kill()
        drop_database(name)


@pytest.fixture
def webhook(stack: Stack) -> str:
    return f"{stack.base_url}/zalo/webhook"


def follower_id() -> str:
    return "7" + str(uuid.uuid4().int)[:18]


def export(stack: Stack, target: str) -> dict[str, Any]:
    result = stack.run("subscribers", "export", target)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def publish(publisher: httpx.Client, title: str) -> None:
    answer = publisher.post("/api/v1/articles", json={"title": title, "summary": "Tóm tắt", "body_html": "<p>x</p>"})
    assert answer.status_code == 201, answer.text


def wait_message(oa: ZaloOa, user: str, words: str) -> Sent:
    def found() -> Sent | None:
        return next((s for s in oa.messages_to(user) if words in s.text), None)

    return wait_until(found, 30, f"a Zalo message with '{words}'", 0.1)


def test_follow_then_an_article_reaches_the_follower_and_unfollow_stops_it(
    stack: Stack, oa: ZaloOa, webhook: str, publisher: httpx.Client, unique: str
) -> None:
    user, control = follower_id(), follower_id()
    for who in (user, control):
        answer = oa.follow(webhook, who)
        assert answer.status_code == 200 and answer.json() == {"outcome": "subscribed"}, answer.text
    welcome = wait_message(oa, user, "Cảm ơn bạn đã quan tâm")
    assert welcome.error == 0 and "“hủy”" in welcome.text
    held = export(stack, user)["subscriptions"]
    assert [(s["channel"], s["status"]) for s in held] == [("zalo", "active")]
    assert held[0]["consent"][0]["method"] == "follow" and held[0]["consent"][0]["action"] == "given"

    title = f"Bài cho người quan tâm {unique}"
    publish(publisher, title)
    article = wait_message(oa, user, title)
    assert article.error == 0 and article.text.startswith("Bài mới: ")

    assert oa.unfollow(webhook, user).json() == {"outcome": "unsubscribed"}
    assert export(stack, user)["subscriptions"][0]["status"] == "disabled"
    after = f"Bài sau khi bỏ quan tâm {unique}"
    publish(publisher, after)
    wait_message(oa, control, after)  # the control follower got it: the announcement went out
    assert not [s for s in oa.messages_to(user) if after in s.text]
    held = export(stack, user)["subscriptions"][0]
    assert [c["action"] for c in held["consent"]] == ["given", "withdrawn"]
    assert all(d["status"] != "pending" for d in held["deliveries"])
    oa.unfollow(webhook, control)


def test_huy_ends_it_and_a_reply_says_so(
    stack: Stack, oa: ZaloOa, webhook: str, publisher: httpx.Client, unique: str
) -> None:
    user = follower_id()
    oa.follow(webhook, user)
    wait_message(oa, user, "Cảm ơn bạn đã quan tâm")
    answer = oa.says(webhook, user, "HỦY")
    assert answer.status_code == 200 and answer.json() == {"outcome": "stopped"}
    reply = wait_message(oa, user, "Bạn đã hủy nhận tin")
    assert reply.error == 0
    held = export(stack, user)["subscriptions"][0]
    assert held["status"] == "disabled" and held["consent"][-1]["method"] == "bot"
    title = f"Bài sau khi hủy {unique}"
    publish(publisher, title)
    control = follower_id()
    oa.follow(webhook, control)
    publish(publisher, f"{title} (2)")
    wait_message(oa, control, f"{title} (2)")
    assert not [s for s in oa.messages_to(user) if title in s.text]
    oa.unfollow(webhook, control)


def test_a_forged_or_unsigned_event_is_refused_and_nothing_stored(stack: Stack, oa: ZaloOa, webhook: str) -> None:
    user = follower_id()
    forged = oa.deliver(webhook, oa.follow_event(user), secret="not-the-oa-secret")
    assert forged.status_code == 401 and forged.json() == {"detail": "X-ZEvent-Signature is wrong"}
    unsigned = httpx.post(webhook, json=oa.follow_event(user), timeout=10)
    assert unsigned.status_code == 401 and unsigned.json() == {"detail": "X-ZEvent-Signature is missing"}
    broken = httpx.post(webhook, content=b"{nope", headers={"X-ZEvent-Signature": "mac=" + "0" * 64}, timeout=10)
    # Checked on the raw bytes first: a body no parser takes, wrongly signed, is a 401 like any other.
    assert broken.status_code == 401 and broken.json() == {"detail": "X-ZEvent-Signature is wrong"}
    assert export(stack, user)["subscriptions"] == []
    assert oa.messages_to(user) == []


def test_an_event_delivered_twice_is_handled_once(stack: Stack, oa: ZaloOa, webhook: str) -> None:
    user = follower_id()
    event = oa.follow_event(user)
    with oa.lock:
        oa.followers.add(user)
        oa.interactions[user] = int(event["timestamp"])
    assert oa.deliver(webhook, event).json() == {"outcome": "subscribed"}
    assert oa.deliver(webhook, event).json() == {"outcome": "duplicate"}
    wait_message(oa, user, "Cảm ơn bạn đã quan tâm")
    stop = oa.text_event(user, "huy")
    assert oa.deliver(webhook, stop).json() == {"outcome": "stopped"}
    assert oa.deliver(webhook, stop).json() == {"outcome": "duplicate"}
    wait_message(oa, user, "Bạn đã hủy nhận tin")
    held = export(stack, user)["subscriptions"]
    assert len(held) == 1 and len(held[0]["consent"]) == 2
    wait_until(
        lambda: all(d["status"] == "delivered" for d in export(stack, user)["subscriptions"][0]["deliveries"]),
        30,
        "both notices delivered",
    )
    assert len(oa.messages_to(user)) == 2  # one welcome, one reply: nothing twice


def test_not_a_follower_any_more_ends_the_subscription_and_logs_it(
    stack: Stack, oa: ZaloOa, webhook: str, publisher: httpx.Client, unique: str
) -> None:
    user = follower_id()
    # The follow event arrives, but by the time we write the OA says they are not a follower.
    assert oa.deliver(webhook, oa.follow_event(user)).json() == {"outcome": "subscribed"}
    wait_until(lambda: export(stack, user)["subscriptions"][0]["status"] == "disabled", 30, "the subscription to end")
    held = export(stack, user)["subscriptions"][0]
    assert "-213" in held["status_reason"]
    assert [s.error for s in oa.messages_to(user)] == [-213]  # tried once, not retried
    assert f"subscription {held['id']} disabled: Zalo error -213" in (stack.log_dir / "sender.log").read_text()
    publish(publisher, f"Không gửi cho người đã rời {unique}")
    assert len(oa.messages_to(user)) == 1


def test_export_and_forget_a_follower_by_id(stack: Stack, oa: ZaloOa, webhook: str) -> None:
    user = follower_id()
    oa.follow(webhook, user)
    wait_message(oa, user, "Cảm ơn bạn đã quan tâm")
    held = export(stack, user)
    assert held["target"] == user and not held["suppressed"]
    [sub] = held["subscriptions"]
    assert sub["target"] == user and sub["consent"][0]["detail"]["event"] == "follow"
    wait_until(lambda: export(stack, user)["subscriptions"][0]["deliveries"][0]["status"] == "delivered", 30, "sent")
    [welcome] = export(stack, user)["subscriptions"][0]["deliveries"]
    assert welcome["event"] == "reader.welcome" and welcome["attempt_log"][0]["status_code"] == 200
    forgot = stack.run("subscribers", "forget", user, "--yes")
    assert forgot.returncode == 0, forgot.stderr
    after = export(stack, user)
    assert after["subscriptions"] == [] and after["suppressed"] is True
    # A new follow is the person's own act again: subscribed, the suppression lifted.
    assert oa.follow(webhook, user).json() == {"outcome": "subscribed"}
    assert export(stack, user)["suppressed"] is False


def test_no_process_logs_a_follower_id(stack: Stack, oa: ZaloOa) -> None:
    logs = "".join(path.read_text(errors="replace") for path in stack.log_dir.glob("*.log"))
    assert "zalo follower subscribed" in logs
    with oa.lock:
        users = {s.user_id for s in oa.sent}
    assert users and not [u for u in users if u in logs]
