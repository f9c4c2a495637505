"""Subscribers and the delivery log in a real browser (Debian's chromium through Playwright)
on the real stack: an admin adds a webhook subscriber pointing at the local receiver
(127.0.0.1 is allowed by the stack's BANTIN_EGRESS_ALLOW, as for the other delivery tests),
an article is published, its delivery and attempt appear in the log, a replay reaches the
receiver again with the same webhook-id, a test message arrives; an editor is refused.
Screenshots at 1280 and 375 px go to test-output/screenshots/."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect
from standardwebhooks import Webhook

from tests.integration.announce import publish
from tests.integration.axe import assert_accessible
from tests.integration.receivers import Receivers
from tests.integration.stack import Stack, wait_until
from tests.integration.test_console_browser import PASSWORD, make_staff, screenshot, sign_in

ADMIN = "quantri_nhantin"
EDITOR = "bientap_nhantin"


@pytest.fixture(scope="module")
def accounts(stack: Stack) -> None:
    """An admin and an editor of this module's own (the stack, and its users, are shared by the session)."""
    make_staff(stack, (ADMIN, "admin"), (EDITOR, "editor"))


def log_row(page: Page, subscription_id: str, delivery_id: str) -> Locator:
    """The delivery's row in the subscriber's log, freshly loaded."""
    page.goto(f"/console/deliveries?subscription={subscription_id}")
    return page.locator("table.deliveries tbody tr", has_text=delivery_id)


def sent_with_attempts(page: Page, subscription_id: str, delivery_id: str, attempts: int) -> bool:
    """The row says "Đã gửi" and lists at least ``attempts`` attempts (a timed-out try under load adds one)."""
    row = log_row(page, subscription_id, delivery_id)
    return row.count() == 1 and "Đã gửi" in row.inner_text() and row.locator("ol.attempts li").count() >= attempts


def test_an_admin_adds_a_webhook_sees_its_delivery_and_replays_it(
    stack: Stack,
    accounts: None,
    context: BrowserContext,
    receivers: Receivers,
    publisher: httpx.Client,
    unique: str,
) -> None:
    page = context.new_page()
    sign_in(page, ADMIN, PASSWORD)
    page.get_by_role("navigation", name="Chính").get_by_role("link", name="Người nhận").click()
    expect(page.get_by_role("heading", name="Người nhận tin")).to_be_visible()
    page.get_by_role("link", name="Thêm người nhận").first.click()
    expect(page.get_by_role("link", name="Webhook")).to_have_attribute("aria-current", "page")

    # A private address is refused by the field, the typing kept, nothing stored.
    page.get_by_label("Địa chỉ webhook (URL)").fill("https://10.1.2.3/hook")
    page.get_by_label("Chuyên mục").fill(f"Tin {unique}")
    page.get_by_role("button", name="Lưu người nhận").click()
    expect(page.locator("#target-error")).to_contain_text("địa chỉ nội bộ")
    expect(page.get_by_label("Chuyên mục")).to_have_value(f"Tin {unique}")
    screenshot(page, "subscriber-new-errors")

    path = f"/hooks/console-{unique}"
    page.get_by_label("Địa chỉ webhook (URL)").fill(receivers.base + path)
    page.get_by_role("button", name="Lưu người nhận").click()
    secret = page.get_by_label("Khóa ký (webhook secret)").input_value()
    assert secret.startswith("whsec_")
    screenshot(page, "subscriber-secret")
    page.get_by_role("link", name=re.compile("về trang người nhận")).click()
    subscription_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("dd.target")).to_have_text(receivers.base + path)
    assert secret not in page.content()

    article = publish(publisher, unique)
    [received] = wait_until(lambda: receivers.got(path), 10, "the webhook")
    verified = Webhook(secret).verify(received.body, received.headers)
    assert verified["data"]["article"]["title"] == article["title"]
    delivery_id = received.headers["webhook-id"]

    wait_until(lambda: sent_with_attempts(page, subscription_id, delivery_id, 1), 20, "the delivery sent in the log")
    row = log_row(page, subscription_id, delivery_id)
    expect(row).to_contain_text(article["title"])
    expect(row).to_contain_text("Đã nhận (mã 204)")
    expect(row.locator("ol.attempts .when").first).to_have_text(re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$"))
    expect(row).to_contain_text(re.compile(r"\d+ ms"))
    attempts = row.locator("ol.attempts li").count()
    screenshot(page, "deliveries")

    before = len(receivers.got(path))
    row.get_by_role("button", name="Gửi lại").click()
    expect(page.get_by_role("status")).to_contain_text("vào hàng gửi lại")
    again = wait_until(lambda: (got := receivers.got(path)) and len(got) > before and got, 20, "the replayed webhook")
    assert again[before].headers["webhook-id"] == delivery_id  # the same message, sent again
    Webhook(secret).verify(again[before].body, again[before].headers)
    wait_until(
        lambda: sent_with_attempts(page, subscription_id, delivery_id, attempts + 1),
        20,
        "the replay's attempt in the log",
    )

    page.goto(f"/console/subscribers/{subscription_id}")
    page.get_by_role("button", name="Gửi tin thử").click()
    expect(page.get_by_role("status")).to_contain_text("tin thử")
    wait_until(
        lambda: any(
            Webhook(secret).verify(r.body, r.headers)["type"] == "subscription.test" for r in receivers.got(path)
        ),
        20,
        "the test message at the receiver",
    )
    page.reload()
    expect(page.locator("table.deliveries")).to_contain_text("Tin thử")
    screenshot(page, "subscriber")

    page.goto("/console/subscribers")
    expect(page.locator("table.list")).to_contain_text(receivers.base + path)
    screenshot(page, "subscribers")
    page.goto("/console/")
    expect(page.get_by_role("link", name=re.compile("đã gửi"))).to_have_attribute(
        "href", "/console/deliveries?status=delivered"
    )
    screenshot(page, "dashboard-admin")

    page.goto(f"/console/subscribers/{subscription_id}")
    page.get_by_role("link", name="Xóa người nhận…").click()
    screenshot(page, "subscriber-remove")
    page.get_by_role("button", name="Xóa người nhận").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã xóa người nhận #{subscription_id}")


def test_an_editor_is_refused_on_the_admin_pages(accounts: None, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    nav = page.get_by_role("navigation", name="Chính")
    expect(nav.get_by_role("link", name="Người nhận")).to_have_count(0)
    expect(nav.get_by_role("link", name="Nhật ký gửi")).to_have_count(0)
    for path in ("/console/subscribers", "/console/deliveries"):
        response = page.goto(path)
        assert response is not None and response.status == 403
        expect(page.get_by_role("heading", name="Không có quyền")).to_be_visible()
    screenshot(page, "subscribers-forbidden")


def test_the_delivery_log_fits_a_phone_and_reads_since_day_first(accounts: None, context: BrowserContext) -> None:
    """At 375 px the log's filters stack inside the page; "since" is typed dd/mm/yyyy HH:mm, as everywhere else."""
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, ADMIN, PASSWORD)
    page.goto("/console/deliveries")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    button = page.locator("form.log-filters").get_by_role("button", name="Lọc").bounding_box()
    status = page.get_by_label("Trạng thái").bounding_box()
    assert button is not None and status is not None
    assert button["x"] + button["width"] <= 375 and status["width"] >= 300
    since = page.get_by_label("Từ thời điểm")
    assert since.get_attribute("type") in (None, "text")
    since.fill("31/02/2026 08:00")
    page.get_by_label("Mã người nhận").last.fill("1")
    page.get_by_role("button", name="Gửi lại các tin lỗi").click()
    # A day that does not exist is named as such, not as a wrong format (issue 20, section 1).
    expect(page.locator("#since-error")).to_contain_text("31/02/2026 không có")
    expect(since).to_have_value("31/02/2026 08:00")
    assert_accessible(page)  # the refusal at phone width: named, tied to its field
