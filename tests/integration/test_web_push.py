"""Web Push end to end (decision 0041), on real API, worker and beat processes.

A browser (push_service.Browser: its own key pair and auth secret) subscribes through the
site's own endpoints (CSRF token from /push/token, POST /push/subscriptions); a published
article reaches the local push service, which checks the VAPID JWT and decrypts the
payload with the browser's private key. 404/410 end the subscription; 429 waits for
Retry-After; the browser can unsubscribe with its endpoint and auth secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.announce import deliveries_of, publish
from tests.integration.push_service import Browser, PushService
from tests.integration.push_stack import PUBLIC, push_stack
from tests.integration.stack import Stack, wait_until


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    server = PushService()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with push_stack(tmp_path_factory.mktemp("stack-push")) as started:
        yield started


@pytest.fixture(scope="module")
def stack(running: tuple[Stack, str]) -> Stack:
    """The module's own stack: the VAPID pair is set, so pages offer notifications."""
    return running[0]


@pytest.fixture(scope="module")
def database_url(running: tuple[Stack, str]) -> str:
    return running[1]


def subscribe(
    stack: Stack, browser: Browser, categories: list[str], subscription: dict[str, Any] | None = None, **changes: Any
) -> httpx.Response:
    """What site.js does: a token (and its cookie), then the subscription as JSON (``subscription``:
    another than the browser's own)."""
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        token = client.get("/push/token")
        assert token.status_code == 200, token.text
        assert token.json()["public_key"] == PUBLIC
        body = {"csrf_token": token.json()["csrf_token"], "subscription": subscription or browser.subscription_json(),
                "categories": categories, **changes}  # fmt: skip
        return client.post("/push/subscriptions", json=body, headers={"Origin": stack.base_url})


def subscription_row(database_url: str, endpoint: str) -> Any:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT id, status, status_reason, secret, options FROM subscriptions "
                        "WHERE channel = 'web_push' AND target = :endpoint"),
                {"endpoint": endpoint},
            ).one()  # fmt: skip
    finally:
        engine.dispose()


def consents(database_url: str, subscription_id: int) -> list[tuple[str, str, str | None]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT action, method, text_version FROM consent_events WHERE subscription_id = :id ORDER BY id"
                ),
                {"id": subscription_id},
            )
            return [(r.action, r.method, r.text_version) for r in rows]
    finally:
        engine.dispose()


def category_of(publisher: httpx.Client, unique: str) -> str:
    """Publish once so the test's category exists (and is public); its slug."""
    publish(publisher, unique, "Bài mở chuyên mục")
    return f"tin-{unique}"


def test_a_published_article_reaches_the_browser_encrypted_signed_and_replaceable(
    stack: Stack, push_service: PushService, publisher: httpx.Client, database_url: str, unique: str
) -> None:
    slug = category_of(publisher, unique)
    browser = push_service.new_browser()
    answer = subscribe(stack, browser, [slug])
    assert answer.status_code == 201, answer.text
    assert "Đã bật thông báo" in answer.json()["message"]
    row = subscription_row(database_url, browser.endpoint)
    assert row.status == "active" and row.options["p256dh"] == browser.p256dh
    assert consents(database_url, row.id) == [("given", "browser", "2026-12-07-web-push")]

    article = publish(publisher, unique, "Khánh thành cầu mới")
    [push] = wait_until(lambda: push_service.pushes_to(browser), 20, "the push arrived")
    assert push.payload["title"] == f"Bài mới: Khánh thành cầu mới {unique}"
    assert push.payload["url"] == article["url"]
    assert push.payload["body"] == "Tóm tắt"
    assert push.headers["TTL"] == "3600" and push.headers["Urgency"] == "normal"
    assert len(push.headers["Topic"]) == 32 and push.payload["tag"] == push.headers["Topic"]
    assert push_service.refused == []

    # The same article again (an update): the same Topic, so it replaces the first.
    updated = publisher.patch(f"/api/v1/articles/{article['id']}", json={"summary": "Tóm tắt mới"})
    assert updated.status_code == 200, updated.text
    pushes = wait_until(lambda: len(push_service.pushes_to(browser)) == 2 and push_service.pushes_to(browser), 20,
                        "the update's push")  # fmt: skip
    assert pushes[1].headers["Topic"] == push.headers["Topic"]


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_endpoint_ends_the_subscription(
    status: int, stack: Stack, push_service: PushService, publisher: httpx.Client, admin: httpx.Client,
    database_url: str, unique: str,
) -> None:  # fmt: skip
    slug = category_of(publisher, unique)
    browser = push_service.new_browser()
    assert subscribe(stack, browser, [slug]).status_code == 201
    endpoint_id = browser.endpoint.rsplit("/", 1)[1]
    push_service.answers[endpoint_id] = [(status, {})] * 5
    publish(publisher, unique)
    row = wait_until(
        lambda: (r := subscription_row(database_url, browser.endpoint)).status == "disabled" and r, 20, "ended"
    )
    assert f"HTTP {status}" in row.status_reason
    [delivery] = deliveries_of(admin, row.id)
    assert delivery["status"] == "failed" and delivery["attempts"] == 1


def test_429_waits_for_retry_after_then_delivers(
    stack: Stack, push_service: PushService, publisher: httpx.Client, admin: httpx.Client, database_url: str,
    unique: str,
) -> None:  # fmt: skip
    slug = category_of(publisher, unique)
    browser = push_service.new_browser()
    assert subscribe(stack, browser, [slug]).status_code == 201
    push_service.answers[browser.endpoint.rsplit("/", 1)[1]] = [(429, {"Retry-After": "1"}), (503, {})]
    publish(publisher, unique)
    wait_until(lambda: push_service.pushes_to(browser), 30, "the push after 429 and 503")
    row = subscription_row(database_url, browser.endpoint)
    [delivery] = wait_until(lambda: (d := deliveries_of(admin, row.id)) and d[0]["status"] == "delivered" and d, 10,
                            "delivered")  # fmt: skip
    assert delivery["attempts"] == 3
    assert row.status == "active"


def test_the_browser_unsubscribes_with_its_secret_only(
    stack: Stack, push_service: PushService, publisher: httpx.Client, database_url: str, unique: str
) -> None:
    slug = category_of(publisher, unique)
    browser = push_service.new_browser()
    assert subscribe(stack, browser, [slug]).status_code == 201
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        csrf = client.get("/push/token").json()["csrf_token"]
        wrong = {"csrf_token": csrf, "endpoint": browser.endpoint, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}
        assert client.post("/push/unsubscribe", json=wrong).status_code == 200
        assert subscription_row(database_url, browser.endpoint).status == "active"
        right = {**wrong, "auth": browser.subscription_json()["keys"]["auth"]}
        assert client.post("/push/unsubscribe", json=right).status_code == 200
    row = subscription_row(database_url, browser.endpoint)
    assert row.status == "disabled"
    assert [c[0] for c in consents(database_url, row.id)] == ["given", "withdrawn"]
    publish(publisher, unique)
    with pytest.raises(AssertionError):
        wait_until(lambda: push_service.pushes_to(browser), 4, "no push after unsubscribing")


def test_someone_who_knows_an_endpoint_cannot_take_its_subscription_over(
    stack: Stack, push_service: PushService, publisher: httpx.Client, database_url: str, unique: str
) -> None:
    slug = category_of(publisher, unique)
    browser = push_service.new_browser()
    assert subscribe(stack, browser, [slug]).status_code == 201
    before = subscription_row(database_url, browser.endpoint)
    # The same endpoint with another browser's keys (and other categories): refused, nothing changed.
    forged = {**browser.subscription_json(), "keys": push_service.new_browser().subscription_json()["keys"]}
    answer = subscribe(stack, browser, [], forged)
    assert (answer.status_code, answer.json()["field"]) == (422, "auth"), answer.text
    assert answer.json()["message"]
    assert subscription_row(database_url, browser.endpoint) == before
    # The browser itself, asking again with its own keys, is still welcome.
    assert subscribe(stack, browser, [slug]).status_code in (200, 201)


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"csrf_token": "forged"}, 403, None),
        (
            {"subscription": {"endpoint": "https://10.1.2.3/push/x", "keys": {"p256dh": "x", "auth": "y"}}},
            422,
            "endpoint",
        ),
        ({"subscription": {"endpoint": "ftp://127.0.0.1/x", "keys": {}}}, 422, "endpoint"),
        ({"keys": "broken-p256dh"}, 422, "p256dh"),
        ({"keys": "short-auth"}, 422, "auth"),
        ({"categories": ["khong-co-chuyen-muc-nay"]}, 422, "categories"),
    ],
)
def test_bad_subscriptions_are_refused_in_words_and_store_nothing(
    change: dict[str, Any], status: int, field: str | None, stack: Stack, push_service: PushService,
    database_url: str,
) -> None:  # fmt: skip
    browser = push_service.new_browser()
    document = dict(change.pop("subscription", browser.subscription_json()))
    keys = change.pop("keys", None)
    if keys == "broken-p256dh":
        document["keys"]["p256dh"] = "BAAA" + document["keys"]["p256dh"][4:]
    elif keys == "short-auth":
        document["keys"]["auth"] = "c2hvcnQ"
    answer = subscribe(stack, browser, change.pop("categories", []), document, **change)
    assert answer.status_code == status, answer.text
    assert answer.json()["message"]  # Vietnamese words for the reader, never a 500
    if field is not None:
        assert answer.json()["field"] == field
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                sa.text("SELECT count(*) FROM subscriptions WHERE channel = 'web_push' AND target = :e"),
                {"e": browser.endpoint},
            ).scalar()
    finally:
        engine.dispose()
    assert count == 0


def test_the_service_worker_is_served_at_the_root(stack: Stack) -> None:
    answer = httpx.get(f"{stack.base_url}/sw.js", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "showNotification" in answer.text and "notificationclick" in answer.text
