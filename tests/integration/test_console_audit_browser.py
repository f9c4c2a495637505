"""The audit log in a real browser on the real stack: an account made by the operator's CLI,
a failed sign-in and a successful one are rows an admin finds by filtering, from the
client's address, and downloads as CSV. Screenshots at 1280 and 375 px."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import BrowserContext, expect

from tests.integration.stack import Stack
from tests.integration.test_console_browser import PASSWORD, run_cli, screenshot, sign_in

ADMIN = "quantri_kiemtra"


def test_an_admin_filters_the_audit_log_and_downloads_it(stack: Stack, context: BrowserContext) -> None:
    created = run_cli(stack, "users", "create", "--username", ADMIN, "--role", "admin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    page = context.new_page()
    sign_in(page, ADMIN, "không phải mật khẩu")
    expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, ADMIN, PASSWORD)

    page.get_by_role("navigation", name="Chính").get_by_role("link", name="Nhật ký kiểm tra").click()
    expect(page.get_by_role("heading", name="Nhật ký kiểm tra")).to_be_visible()
    page.get_by_label("Người thực hiện").fill(ADMIN)
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)  # the sign-in; the failed attempt was anonymous, the account the operator's
    expect(rows.first).to_contain_text("sign_in")
    expect(rows.first).to_contain_text("127.0.0.1")

    page.goto("/console/audit")
    page.get_by_label("Việc").select_option("sign_in.failed")
    page.get_by_role("button", name="Lọc").click()
    failed = page.locator("table.audit tbody tr", has_text=ADMIN)
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("chưa đăng nhập · 127.0.0.1")
    assert "không phải mật khẩu" not in page.content()
    screenshot(page, "audit-log")

    page.get_by_label("Việc").select_option("user.create")
    page.get_by_label("Loại đối tượng").select_option("user")
    page.get_by_role("button", name="Lọc").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    made = [r for r in csv.DictReader(io.StringIO(text)) if ADMIN in r["after"]]
    assert [(r["action"], r["actor_kind"], r["client"]) for r in made] == [("user.create", "operator", "cli")]

    page.goto("/console/audit?action=article.delete")
    expect(page.locator("#action-error")).to_be_visible()
    screenshot(page, "audit-log-unknown-filter")
