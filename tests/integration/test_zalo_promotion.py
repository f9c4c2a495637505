"""Zalo followers outside the 7-day window (decision 0040), end to end: the real API, worker and
beat on PostgreSQL and Redis, and the local OA (``zalo_api.py``) refusing as the OA API does
(-230 outside the window, -211 out of promotion quota, -201 a malformed template) and
accepting the documented promotion template.

A cold follower gets the article as a promotion (title, button to the page) after one -230,
on the same delivery row; with a quota of 3 and 5 cold followers, the 3 most recent get it
at once and the other 2 when the quota returns, nobody twice; the dashboard shows the
quota in Vietnamese (axe-core, 1280 and 375 px screenshots).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.receivers import Receivers
from tests.integration.stack import PrivateRedis, Stack, wait_until
from tests.integration.test_console_browser import make_staff, screenshot, signed_in
from tests.integration.test_zalo_oa import export, follower_id, publish, wait_message
from tests.integration.zalo_api import Sent, ZaloOa

QUOTA = 3
# A short quota window, so that the quota comes back within a test (production: the month).
WINDOW_SECONDS = 20


@pytest.fixture(scope="module")
def oa() -> Iterator[ZaloOa]:
    server = ZaloOa(promotion_quota=QUOTA, quota_window_seconds=WINDOW_SECONDS)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(receivers: Receivers, oa: ZaloOa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own (its own database and Redis, as test_zalo_oa.py's), whose OA has a
    promotion quota of 3 per 20-second window."""
    name = f"bantin_it_zalop_{uuid.uuid4().hex[:8]}"
    env = {
        **ANNOUNCEMENT_TEST_SETTINGS,
        **receivers.env(),
        **oa.env(),
        "BANTIN_ZALO_PROMOTION_QUOTA": str(QUOTA),
        "BANTIN_ZALO_PROMOTION_QUOTA_WINDOW_SECONDS": str(WINDOW_SECONDS),
    }
    broker = PrivateRedis()
    broker.start()
    stack = Stack(create_database(name), broker.url, tmp_path_factory.mktemp("stack-zalop"), **env)
    try:
        with stack.running() as running:
            yield running
    finally:
        broker.kill()
        drop_database(name)


@pytest.fixture
def webhook(stack: Stack) -> str:
    return f"{stack.base_url}/zalo/webhook"


def cold_followers(oa: ZaloOa, webhook: str, count: int) -> list[str]:
    """``count`` followers, in the order they followed (welcomed in the window), then 8 days
    without an interaction as far as Zalo knows."""
    users = [follower_id() for _ in range(count)]
    for user in users:
        assert oa.follow(webhook, user).json() == {"outcome": "subscribed"}
    for user in users:
        wait_message(oa, user, "Cảm ơn bạn đã quan tâm")
        oa.forget_interaction(user)
    return users


def accepted(oa: ZaloOa, title: str) -> list[Sent]:
    """The promotions carrying ``title`` that the OA accepted, in the order it received them."""
    with oa.lock:
        return [s for s in oa.sent if s.form == "promotion" and s.error == 0 and title in s.text]


def test_a_cold_follower_gets_the_article_as_a_promotion_on_the_same_delivery(
    stack: Stack, oa: ZaloOa, webhook: str, publisher: httpx.Client, unique: str
) -> None:
    [user] = cold_followers(oa, webhook, 1)
    title = f"Bài cho người lâu không tương tác {unique}"
    publish(publisher, title)
    [promotion] = wait_until(lambda: accepted(oa, title) or None, 60, "the promotion", 0.2)
    assert promotion.user_id == user and promotion.template is not None
    header = next(e for e in promotion.template["elements"] if e["type"] == "header")
    assert header["content"] == f"Bài mới: {title}"  # the kind's subject
    [button] = promotion.template["buttons"]
    assert button["type"] == "oa.open.url" and "/articles/" in button["payload"]["url"]
    # One tư vấn try refused with -230, then the promotion: the follower saw one message.
    assert [(s.form, s.error) for s in oa.messages_to(user) if title in s.text] == [("cs", -230), ("promotion", 0)]
    [delivery] = [d for d in export(stack, user)["subscriptions"][0]["deliveries"] if d["event"] == "article.published"]
    assert delivery["status"] == "delivered"
    # The -230 was no attempt against it: one attempt, the promotion, logged as such.
    assert [a["error"] for a in delivery["attempt_log"]] == [
        "Zalo: outside the 7-day window, sent as a promotion message"
    ]
    oa.unfollow(webhook, user)  # the next test's followers are all its quota has


def test_a_quota_of_3_goes_to_the_3_most_recent_followers_now_and_the_other_2_when_it_returns(
    stack: Stack, oa: ZaloOa, webhook: str, publisher: httpx.Client, unique: str
) -> None:
    # Start in a fresh quota window, whatever the test before used of its own.
    time.sleep(WINDOW_SECONDS - time.time() % WINDOW_SECONDS)
    users = cold_followers(oa, webhook, 5)  # users[4] followed last: the most recent
    title = f"Bài vượt hạn mức {unique}"
    publish(publisher, title)
    first = wait_until(lambda: accepted(oa, title) if len(accepted(oa, title)) >= 3 else None, 60, "3 promotions")
    assert {s.user_id for s in first[:3]} == set(users[2:])
    everyone = wait_until(lambda: accepted(oa, title) if len(accepted(oa, title)) >= 5 else None, 90, "all 5")
    assert {s.user_id for s in everyone[3:]} == set(users[:2])
    time.sleep(2)  # anything sent twice would have arrived by now
    assert sorted(s.user_id for s in accepted(oa, title)) == sorted(users)  # nobody twice
    for user in users:
        [delivery] = [
            d for d in export(stack, user)["subscriptions"][0]["deliveries"] if d["event"] == "article.published"
        ]
        assert delivery["status"] == "delivered" and len(delivery["attempt_log"]) == 1
    for user in users:
        oa.unfollow(webhook, user)


def test_the_dashboard_shows_the_quota_in_vietnamese(stack: Stack, browser: Browser) -> None:
    make_staff(stack, ("zalo-admin", "admin"))
    for page in signed_in(browser, stack, "zalo-admin"):
        section = page.locator("#zalo-quota")
        expect(section.get_by_role("heading", name="Hạn mức tin truyền thông Zalo OA")).to_be_visible()
        expect(section).to_contain_text("còn lại")
        expect(section).to_contain_text(f"trên {QUOTA}")
        expect(section).to_contain_text("Kỳ hạn mức:")
        screenshot(page, "dashboard-zalo-quota")
