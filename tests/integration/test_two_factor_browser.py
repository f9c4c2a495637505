"""Two-factor sign-in in a real browser on the real stack (its Redis throttle, its database):
an editor enrols by reading the secret the page shows, signs in with a TOTP code computed
here, and the same code again fails; a recovery code works once; an admin resets the lost
device and the audit log says so. Screenshots at 1280 and 375 px."""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.integration.stack import Stack
from tests.integration.test_console_browser import PASSWORD, make_staff, screenshot, sign_in

EDITOR, ADMIN = "bientap_2buoc", "quantri_2buoc"
WRONG_CODE = "Mã không đúng hoặc đã được dùng"


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()


def session_cookie(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "bantin_console")


def test_totp_sign_in_refuses_a_replayed_code_and_a_spent_recovery_code(
    stack: Stack, browser: Browser, context: BrowserContext
) -> None:
    make_staff(stack, (EDITOR, "editor"), (ADMIN, "admin"))
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.get_by_role("link", name="Xác thực hai bước").click()
    page.get_by_role("button", name="Bắt đầu").click()
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    screenshot(page, "two-factor-enrol")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Nhập mã 6 chữ số ứng dụng đang hiện").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Bật xác thực hai bước").click()
    expect(page.locator("#code-error")).to_be_visible()
    enrolled_at = int(time.time()) // 30
    page.get_by_label("Nhập mã 6 chữ số ứng dụng đang hiện").fill(totp.at(enrolled_at * 30))
    page.get_by_role("button", name="Bật xác thực hai bước").click()
    expect(page.get_by_role("heading", name="Đã bật xác thực hai bước")).to_be_visible()
    codes = page.locator("ul.recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "two-factor-recovery-codes")
    before = session_cookie(context)
    sign_out(page)

    # The password alone signs nobody in: the code is asked for, and a fresh one signs in.
    sign_in(page, EDITOR, PASSWORD)
    expect(page.get_by_role("heading", name="Mã xác thực")).to_be_visible()
    page.goto("/console/")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()  # no session yet
    # (Each password still waiting for its code counts as a failure in the throttle: going
    # back to the code page, rather than typing the password again, keeps this test under it.)
    page.goto("/console/login/code?next=/console/")
    screenshot(page, "two-factor-code")
    code = _code_after(totp, enrolled_at)
    page.get_by_label("Mã", exact=True).fill(code)
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    assert session_cookie(context) != before  # a new session, made after the second factor
    sign_out(page)

    # The same code again (its step already accepted) fails; a recovery code works, once.
    sign_in(page, EDITOR, PASSWORD)
    page.get_by_label("Mã", exact=True).fill(code)
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.get_by_role("alert")).to_contain_text(WRONG_CODE)
    page.get_by_label("Mã", exact=True).fill(codes[0])
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    sign_out(page)
    sign_in(page, EDITOR, PASSWORD)
    page.get_by_label("Mã", exact=True).fill(codes[0])
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.get_by_role("alert")).to_contain_text(WRONG_CODE)

    # The phone is lost: an admin resets it; the editor signs in with the password alone.
    admin = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="vi-VN")
    try:
        other = admin.new_page()
        sign_in(other, ADMIN, PASSWORD)
        other.get_by_role("navigation", name="Chính").get_by_role("link", name="Tài khoản").click()
        screenshot(other, "two-factor-accounts")
        other.get_by_role("button", name=f"Đặt lại xác thực hai bước của {EDITOR}").click()
        expect(other.get_by_role("row", name=EDITOR)).to_contain_text("Chưa bật")
        other.goto("/console/audit?action=user.two_factor_reset")
        expect(other.locator("table.audit tbody tr", has_text=ADMIN)).to_have_count(1)
    finally:
        admin.close()
    sign_in(page, EDITOR, PASSWORD)
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()


def _code_after(totp: pyotp.TOTP, step: int) -> str:
    """The code of the first 30 s step after ``step`` (the enrolment's code spent its own step),
    taken early enough in its step that it is still current when typed."""
    while int(time.time()) // 30 <= step or time.time() % 30 > 25:
        time.sleep(0.5)
    return totp.now()
