"""The desk's Facebook Page, end to end on the real API, workers and beat, against a local
Graph API (``graph_api.py``) answering as Meta documents (decision 0039).

Published → one post on the Page with the article's link and words; updated → no second
post; withdrawn → the post deleted (its id kept from the answer). An answer lost after
Facebook made the post (a timeout) → the retry finds the post, no second one. Throttled
(code 32 with the usage header) → waits and posts once. A refused post → a failure with
Facebook's words in the delivery log. A revoked token (190) → the Page's subscription
paused at once with Facebook's words, told on the dashboard; `bantin facebook connect`
with a good token resumes it and the waiting post goes out.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.integration.announce import Subscriber, deliveries_of, publish
from tests.integration.graph_api import DUPLICATE, EXPIRED, PAGE_ID, PAGE_TOKEN, THROTTLED, GraphApi, usage_headers
from tests.integration.stack import Stack, bantin, wait_until
from tests.integration.test_console_browser import PASSWORD, screenshot, sign_in


def page(subscriber: Subscriber) -> dict[str, Any]:
    created = subscriber.add("facebook", PAGE_ID)
    # Whatever the admin asks for, a Page takes the published and withdrawn articles only.
    assert created["events"] == ["article.published", "article.withdrawn"]
    return created


def test_an_article_is_posted_once_not_again_on_update_and_deleted_on_withdrawal(
    publisher: httpx.Client, admin: httpx.Client, graph: GraphApi, subscriber: Subscriber, unique: str
) -> None:
    created = page(subscriber)
    article = publish(publisher, unique)
    [post] = wait_until(lambda: graph.live(article["url"]), 15, "the Page post")
    assert article["title"] in post.message and article["url"] in post.message
    delivered = wait_until(
        lambda: [d for d in deliveries_of(admin, created["id"]) if d["status"] == "delivered"], 10, "recorded"
    )
    assert len(delivered) == 1
    assert publisher.patch(f"/api/v1/articles/{article['id']}", json={"summary": f"Sửa {unique}"}).status_code == 200
    time.sleep(3)
    assert len(graph.made(article["url"])) == 1  # an update posts nothing
    assert publisher.delete(f"/api/v1/articles/{article['id']}").status_code == 204
    wait_until(lambda: not graph.live(article["url"]), 15, "the post deleted")
    assert [p.id for p in graph.made(article["url"])] == [post.id]
    statuses = wait_until(
        lambda: (s := [d["status"] for d in deliveries_of(admin, created["id"])]) == ["delivered"] * 2 and s,
        10,
        "the withdrawal recorded",
    )
    assert statuses == ["delivered", "delivered"]


def test_an_answer_lost_after_the_post_was_made_does_not_post_twice(
    publisher: httpx.Client, admin: httpx.Client, graph: GraphApi, subscriber: Subscriber, unique: str
) -> None:
    created = page(subscriber)
    graph.slow = 4  # past the 2 s delivery timeout: the post is made, the answer lost
    article = publish(publisher, unique)
    wait_until(
        lambda: any(d["status"] == "delivered" for d in deliveries_of(admin, created["id"])), 20, "the retry delivered"
    )
    [delivery] = deliveries_of(admin, created["id"])
    assert delivery["attempts"] == 2 and delivery["attempt_log"][0]["error"] == "timed out"
    assert len(graph.made(article["url"])) == 1


def test_kill_9_of_the_sender_after_facebook_made_the_post_does_not_post_twice(
    stack: Stack, publisher: httpx.Client, admin: httpx.Client, graph: GraphApi, subscriber: Subscriber, unique: str
) -> None:
    created = page(subscriber)
    graph.slow = 1.5  # within the timeout: the sender is waiting for the answer when it dies
    article = publish(publisher, unique)
    [post] = wait_until(lambda: graph.made(article["url"]), 15, "the post made")
    sender = stack.processes.pop("sender")
    os.killpg(sender.pid, signal.SIGKILL)  # before the answer is read or recorded
    sender.wait()
    stack.start_sender()
    # The lease (25 s here) runs out, the sweep hands the row to the new sender, which
    # finds the post on the Page instead of making a second one.
    [delivery] = wait_until(
        lambda: [d for d in deliveries_of(admin, created["id"]) if d["status"] == "delivered"], 60, "re-sent"
    )
    assert [p.id for p in graph.made(article["url"])] == [post.id]
    assert delivery["attempts"] == 1  # the killed attempt left no result
    assert publisher.delete(f"/api/v1/articles/{article['id']}").status_code == 204
    wait_until(lambda: not graph.live(article["url"]), 15, "the post found after the kill, deleted")


def test_throttled_waits_and_posts_once(
    publisher: httpx.Client, admin: httpx.Client, graph: GraphApi, subscriber: Subscriber, unique: str
) -> None:
    created = page(subscriber)
    graph.script.append((400, THROTTLED, usage_headers(0)))
    article = publish(publisher, unique)
    wait_until(lambda: graph.live(article["url"]), 20, "the post after the wait")
    [delivery] = deliveries_of(admin, created["id"])
    assert delivery["attempt_log"][0]["error"].startswith("Facebook 32: Page request limit reached")
    assert len(graph.made(article["url"])) == 1


def test_a_refused_post_is_a_failure_in_facebooks_words(
    publisher: httpx.Client, admin: httpx.Client, graph: GraphApi, subscriber: Subscriber, unique: str
) -> None:
    created = page(subscriber)
    graph.script.extend([(400, DUPLICATE, {})] * 5)  # every attempt of the schedule
    publish(publisher, unique)
    [delivery] = wait_until(
        lambda: [d for d in deliveries_of(admin, created["id"]) if d["status"] == "failed"], 30, "the failure"
    )
    assert delivery["last_error"] == "Facebook 506: Duplicate status message (fbtrace_id AbCdEfGhIjK)"
    assert admin.get(f"/api/v1/subscriptions/{created['id']}").json()["status"] == "active"


def test_a_revoked_token_pauses_the_page_tells_the_admin_and_connect_resumes_it(
    stack: Stack,
    publisher: httpx.Client,
    admin: httpx.Client,
    graph: GraphApi,
    subscriber: Subscriber,
    context: BrowserContext,
    unique: str,
) -> None:
    created = page(subscriber)
    graph.token = "a-new-token-the-desk-has-not-set"  # the desk's token was revoked
    try:
        article = publish(publisher, unique)
        state = wait_until(
            lambda: (s := admin.get(f"/api/v1/subscriptions/{created['id']}").json())["status"] == "paused" and s,
            15,
            "the Page paused",
        )
        expired = EXPIRED["error"]["message"]
        assert state["status_reason"] == f"Facebook 190/460: {expired} (fbtrace_id AbCdEfGhIjK)"
        [delivery] = deliveries_of(admin, created["id"])
        assert delivery["status"] == "pending" and delivery["attempts"] == 1
        refused = stack.run("facebook", "connect", PAGE_ID)
        assert refused.returncode == 1 and "190" in refused.stderr
        dashboard = signed_in_dashboard(stack, context, unique)
        alert = dashboard.locator("#facebook-pages li.warn", has_text=expired[:40])
        expect(alert).to_contain_text("Đã dừng đăng bài.")
        expect(alert).to_contain_text(f"bantin facebook connect {PAGE_ID}")
        screenshot(dashboard, "facebook-page-paused")
    finally:
        graph.token = PAGE_TOKEN
    time.sleep(1.5)
    assert not graph.made(article["url"])  # paused: nothing is tried meanwhile
    connected = stack.run("facebook", "connect", PAGE_ID)
    assert connected.returncode == 0, connected.stderr
    assert "Báo Đà Nẵng" in connected.stdout
    assert admin.get(f"/api/v1/subscriptions/{created['id']}").json()["status"] == "active"
    wait_until(lambda: graph.live(article["url"]), 90, "the waiting post, once resumed")
    dashboard.reload()
    expect(dashboard.locator("#facebook-pages")).to_contain_text("mỗi bài đăng được đăng lên Trang một lần")


def signed_in_dashboard(stack: Stack, context: BrowserContext, unique: str) -> Page:
    """An admin made with the CLI, signed in, on the dashboard."""
    username = f"fb{unique}"
    created = bantin(stack.env, "users", "create", "--username", username, "--role", "admin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    dashboard = context.new_page()
    sign_in(dashboard, username, PASSWORD)
    expect(dashboard.get_by_role("heading", name="Tổng quan")).to_be_visible()
    return dashboard
