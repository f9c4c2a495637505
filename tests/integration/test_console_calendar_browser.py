"""The console's calendar in a real browser on the real stack: an admin adds a lunar key
date, finds it on its solar day in the month view with the lunar date beside it, drafts
an article from the occurrence and lands in the editor with the official heading, the
key date's category and the morning of the anniversary. Screenshots at 1280 and 375 px go
to test-output/screenshots/."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from service.calendar import lunar
from tests.integration.stack import Stack
from tests.integration.test_console_browser import PASSWORD, run_cli, screenshot, sign_in

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def calendar_admin(stack: Stack) -> str:
    created = run_cli(stack, "users", "create", "--username", "quantrilich", "--role", "admin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    return "quantrilich"


def test_an_admin_adds_a_lunar_key_date_sees_it_in_the_month_and_drafts_an_article(
    stack: Stack, calendar_admin: str, context: BrowserContext, unique: str
) -> None:
    # Twenty days ahead (in Hà Nội), as a lunar date: it is in the upcoming list and its month.
    solar = datetime.now(ZONE).date() + timedelta(days=20)
    moon = lunar.from_solar(solar)
    origin = moon.year - 50
    name = f"Ngày thử lịch âm {unique}"
    # The desk's categories: the tag's own (in other letters' case) and a longer one containing it.
    for category in (f"lịch SỬ {unique}", f"Nghiên cứu Lịch sử {unique}"):
        made = run_cli(stack, "categories", "create", category)
        assert made.returncode == 0, made.stderr
    page = context.new_page()
    sign_in(page, calendar_admin, PASSWORD)
    page.get_by_role("link", name="Lịch kỷ niệm").first.click()
    expect(page.get_by_role("heading", name="Lịch kỷ niệm", exact=True)).to_be_visible()
    screenshot(page, "calendar")

    # A date that does not exist first: 30/3 âm lịch of 2027 (a 29-day month); nothing is stored.
    page.get_by_role("link", name="Thêm ngày kỷ niệm").click()
    page.get_by_label("Tên ngày kỷ niệm").fill(name)
    page.get_by_label("Loại lịch").select_option("lunar")
    page.get_by_label("Ngày", exact=True).fill("30")
    page.get_by_label("Tháng", exact=True).fill("3")
    page.get_by_label("Năm gốc").fill("2027")
    page.get_by_label("Nhóm").fill(f"Lịch sử {unique}")
    page.get_by_role("button", name="Thêm ngày kỷ niệm").click()
    expect(page.locator("#day-error")).to_contain_text("chỉ có 29 ngày")
    expect(page.get_by_label("Tên ngày kỷ niệm")).to_have_value(name)
    screenshot(page, "key-date-errors")

    page.get_by_label("Ngày", exact=True).fill(str(moon.day))
    page.get_by_label("Tháng", exact=True).fill(str(moon.month))
    if moon.leap:
        page.get_by_label("Tháng nhuận").check()
    page.get_by_label("Năm gốc").fill(str(origin))
    page.get_by_role("button", name="Thêm ngày kỷ niệm").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã thêm ngày kỷ niệm “{name}”")

    page.goto(f"/console/calendar?month={solar:%Y-%m}")
    month = page.locator("#month")
    expect(month.get_by_role("heading")).to_have_text(f"Tháng {solar.month}/{solar.year}")
    cell = month.locator("td", has_text=name)
    leap = " nhuận" if moon.leap else ""
    expect(cell).to_contain_text(f"{solar:%d/%m/%Y} · {moon.day}/{moon.month}{leap} Âm lịch")
    expect(cell.locator(".daynum")).to_have_text(str(solar.day))
    expect(cell).to_contain_text("50 năm")
    expect(cell).to_contain_text("năm tròn")
    expect(cell).to_contain_text("đại lễ")
    screenshot(page, "calendar-month")
    # At 375 px the grid is a list of the marked days: the cell's full date is shown.
    page.set_viewport_size({"width": 375, "height": 900})
    expect(cell.locator(".fulldate")).to_be_visible()
    expect(month.locator("thead")).to_be_hidden()
    page.set_viewport_size({"width": 1280, "height": 900})

    cell.get_by_role("button", name=f"Soạn bài: {name}").click()
    heading = (
        f"Kỷ niệm 50 năm {name} ({moon.day}/{moon.month}/{origin} âm lịch - {solar.day}/{solar.month}/{solar.year})"
    )
    expect(page.get_by_role("heading", name="Sửa bài")).to_be_visible()
    expect(page.get_by_label("Tiêu đề")).to_have_value(heading)
    # The tag "Lịch sử …" is the existing "lịch SỬ …", never the one that merely contains it.
    expect(page.get_by_role("checkbox", name=f"lịch SỬ {unique}", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name=f"Nghiên cứu Lịch sử {unique}")).not_to_be_checked()
    expect(page.get_by_label("Thời điểm đăng")).to_have_value(f"{solar:%d/%m/%Y} 07:00")
    expect(page.get_by_role("status")).to_contain_text("Đã soạn bài nháp")
    screenshot(page, "calendar-draft-editor")
    article_id = page.url.rsplit("/", 1)[1]

    token = stack.create_token("publish")
    api = httpx.get(
        f"{stack.base_url}/api/v1/articles/{article_id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert api["status"] == "draft" and api["title"] == heading and api["created_by"] == f"user:{calendar_admin}"
    assert api["publish_at"].startswith(f"{solar.isoformat()}T00:00:00")  # 07:00 in Hà Nội

    # The calendar now opens that draft instead of making another.
    page.goto(f"/console/calendar?month={solar:%Y-%m}")
    page.locator("#month td", has_text=name).get_by_role("link", name="Mở bài đã soạn").click()
    expect(page).to_have_url(f"{stack.base_url}/console/articles/{article_id}")
