"""The WebSub hub: subscribe, verification of intent, content distribution, unsubscribe."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx

from tests.integration.announce import publish
from tests.integration.receivers import Receivers, always
from tests.integration.stack import Stack, wait_until

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def hub_request(stack: Stack, **params: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/websub", data={f"hub.{k}": v for k, v in params.items()})


def test_subscribe_verify_distribute_and_unsubscribe(
    stack: Stack, publisher: httpx.Client, receivers: Receivers, unique: str
) -> None:
    callback = f"{receivers.base}/websub-callback/{unique}"
    publish(publisher, unique)  # the category feed must exist to be a topic
    topic = f"{stack.base_url}/feeds/categories/tin-{unique}/atom.xml"
    wait_until(lambda: httpx.get(topic).status_code == 200, 5, "the category feed")

    response = hub_request(
        stack, mode="subscribe", callback=callback, topic=topic, secret="bí mật", lease_seconds="7200"
    )
    assert response.status_code == 202
    [check] = wait_until(lambda: receivers.got(f"/websub-callback/{unique}?verify"), 5, "verification of intent")
    assert check.headers["hub.mode"] == "subscribe"
    assert check.headers["hub.topic"] == topic
    assert check.headers["hub.lease_seconds"] == "7200"
    assert check.headers["hub.challenge"]

    # Give the hub a moment to mark it verified, then change the feed.
    time.sleep(0.5)
    article = publish(publisher, unique, title="Tin thứ hai")
    path = f"/websub-callback/{unique}"
    [content] = wait_until(
        lambda: [r for r in receivers.got(path) if article["guid"].encode() in r.body], 5, "the new feed body"
    )
    assert content.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert f'<{stack.base_url}/websub>; rel="hub"' in content.headers["link"]
    assert f'<{topic}>; rel="self"' in content.headers["link"]
    expected = "sha256=" + hmac.new("bí mật".encode(), content.body, hashlib.sha256).hexdigest()
    assert content.headers["x-hub-signature"] == expected
    assert content.body == httpx.get(topic).content  # the feed's full, current body

    assert hub_request(stack, mode="unsubscribe", callback=callback, topic=topic).status_code == 202
    wait_until(lambda: len(receivers.got(f"/websub-callback/{unique}?verify")) == 2, 5, "unsubscribe verification")
    time.sleep(0.5)
    before = len(receivers.got(path))
    publish(publisher, unique, title="Sau khi hủy")
    time.sleep(2)
    assert len(receivers.got(path)) == before


def test_unconfirmed_intent_gets_no_content(
    stack: Stack, publisher: httpx.Client, receivers: Receivers, unique: str
) -> None:
    callback = f"{receivers.base}/websub-callback/no-{unique}"
    receivers.behaviours[f"/websub-callback/no-{unique}?verify"] = always(404)
    topic = f"{stack.base_url}/feeds/atom.xml"
    assert hub_request(stack, mode="subscribe", callback=callback, topic=topic).status_code == 202
    wait_until(lambda: receivers.got(f"/websub-callback/no-{unique}?verify"), 5, "verification attempt")
    time.sleep(0.5)
    publish(publisher, unique)
    time.sleep(2)
    assert receivers.got(f"/websub-callback/no-{unique}") == []


def test_feeds_advertise_the_hub(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/feeds/rss.xml")
    assert f'<{stack.base_url}/websub>; rel="hub"' in response.headers["link"]
    assert f'rel="hub" href="{stack.base_url}/websub"'.encode() in response.content or (
        f'href="{stack.base_url}/websub" rel="hub"'.encode() in response.content
    )
    assert httpx.get(f"{stack.base_url}/feeds/feed.json").json()["hubs"][0]["url"] == f"{stack.base_url}/websub"


def test_bad_hub_requests_name_the_parameter(stack: Stack, receivers: Receivers) -> None:
    topic = f"{stack.base_url}/feeds/atom.xml"
    callback = f"{receivers.base}/websub-callback/bad"
    cases = [
        ({"mode": "follow", "callback": callback, "topic": topic}, "hub.mode"),
        ({"mode": "subscribe", "topic": topic}, "hub.callback"),
        ({"mode": "subscribe", "callback": "https://10.0.0.1/cb", "topic": topic}, "hub.callback"),
        ({"mode": "subscribe", "callback": callback, "topic": "https://elsewhere.example/feed"}, "hub.topic"),
        (
            {
                "mode": "subscribe",
                "callback": callback,
                "topic": f"{stack.base_url}/feeds/categories/khong-co/atom.xml",
            },
            "hub.topic",
        ),
        ({"mode": "subscribe", "callback": callback, "topic": topic, "lease_seconds": "soon"}, "hub.lease_seconds"),
        ({"mode": "subscribe", "callback": callback, "topic": topic, "secret": "x" * 200}, "hub.secret"),
        # Callbacks that used to be accepted, then made the verification task fail on every try.
        ({"mode": "subscribe", "callback": callback + "%00", "topic": topic}, "hub.callback"),
        ({"mode": "subscribe", "callback": callback + "/" + "a" * 100_000, "topic": topic}, "hub.callback"),
        ({"mode": "subscribe", "callback": callback + "/a b", "topic": topic}, "hub.callback"),
        ({"mode": "subscribe", "callback": callback + "\u202e", "topic": topic}, "hub.callback"),
        ({"mode": "subscribe", "callback": "https://[64:ff9b::a9fe:a9fe]/cb", "topic": topic}, "hub.callback"),
        ({"mode": "subscribe", "callback": "gopher://127.0.0.1/cb", "topic": topic}, "hub.callback"),
    ]
    for params, field in cases:
        response = hub_request(stack, **params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["field"] == field
    assert httpx.post(f"{stack.base_url}/websub", json={"hub.mode": "subscribe"}).status_code == 422
    time.sleep(0.5)
    assert receivers.got("/websub-callback/bad?verify") == []


def test_callback_query_is_kept_when_verifying(stack: Stack, receivers: Receivers, unique: str) -> None:
    """WebSub §5.3: the hub keeps the callback's query and appends its own parameters."""
    callback = f"{receivers.base}/websub-callback/q-{unique}?id=42&hub.x=kept"
    topic = f"{stack.base_url}/feeds/atom.xml"
    assert hub_request(stack, mode="subscribe", callback=callback, topic=topic).status_code == 202
    [check] = wait_until(lambda: receivers.got(f"/websub-callback/q-{unique}?verify"), 5, "verification of intent")
    assert check.headers["id"] == "42" and check.headers["hub.x"] == "kept"
    assert check.headers["hub.mode"] == "subscribe" and check.headers["hub.challenge"]


def test_a_flood_of_requests_is_answered_429(stack: Stack, receivers: Receivers, unique: str) -> None:
    """Verifications in flight are bounded per callback host; beyond that the hub says 429."""
    topic = f"{stack.base_url}/feeds/atom.xml"
    # Each verification hangs until the delivery timeout, so the requests stay in flight.
    for n in range(40):
        receivers.delays[f"/websub-callback/flood-{unique}-{n}?verify"] = 5
    statuses = []
    for n in range(40):
        response = hub_request(
            stack, mode="subscribe", callback=f"{receivers.base}/websub-callback/flood-{unique}-{n}", topic=topic
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0
            assert "127.0.0.1" in response.json()["detail"]
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {202}
