"""Mail never fails in silence (issue 20 §2), as a newcomer and an admin see it in Chromium.

- ``bantin up`` as ``make run`` starts it (development, no BANTIN_SMTP_HOST): the first
  sign-up's confirmation mail shows, rendered, on the console's outbox page, and its link
  confirms; the dashboard says where mail goes.
- The API (and a sending worker) with a relay that does not answer: a warning in their logs at start, the
  public sign-up form says e-mail is unavailable (503) and stores nothing, the admin's
  dashboard has a banner.
Screenshots at 1280 and 375 px go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import create_engine, text

from tests.integration.axe import assert_accessible
from tests.integration.conftest import api_alone
from tests.integration.stack import REPO, Up, bantin_up, wait_until

SCREENSHOTS = REPO / "test-output" / "screenshots"
WIDTHS = (1280, 375)
PASSWORD = "mat-khau-du-dai-cho-quan-tri"
CONFIRM = re.compile(r"http://127\.0\.0\.1:\d+/subscribe/confirm/[A-Za-z0-9_-]{43}")


def _admin(env: dict[str, str]) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "users", "create", "--username", "quantri", "--role", "admin"],
        env=env, cwd=REPO, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/console/")


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{name}: {scroll} px wide in a {inner} px window"
        # axe checks the page around the mail and the frame's element (its title), not the mail
        # inside: the sandbox allows no scripts, so axe cannot enter it (it reports nothing
        # there). The mails' own HTML is checked in test_reader_welcome, opened on its own.
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    with bantin_up(tmp_path_factory.mktemp("fresh")) as up:
        yield up


def test_the_first_sign_up_on_a_fresh_make_run_shows_its_mail_in_the_outbox(fresh: Up, browser: Browser) -> None:
    assert "development outbox" in fresh.log()
    reader = browser.new_page(viewport={"width": 375, "height": 900}, locale="vi-VN")
    reader.goto(f"{fresh.base}/subscribe")
    reader.fill("#f-email", "nguoi.moi@example.vn")
    reader.check("#f-consent")
    reader.click("main button[type=submit]")
    reader.wait_for_url("**/subscribe/sent?lang=vi")
    _admin(fresh.env)
    admin = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    _sign_in(admin, fresh.base)
    banner = admin.locator(".banner.info")
    assert "hộp thư đi cục bộ" in banner.inner_text()
    banner.get_by_role("link").click()
    admin.wait_for_url(f"{fresh.base}/console/outbox")

    def arrived() -> bool:
        admin.reload()
        return admin.locator(".outbox-list tbody tr").count() > 0

    wait_until(arrived, 60, "the confirmation mail in the outbox", 0.5)
    row = admin.locator(".outbox-list tbody tr").first
    assert "Xác nhận đăng ký" in row.inner_text() and "nguoi.moi@example.vn" in row.inner_text()
    frame = admin.frame_locator("iframe.mail-frame")
    assert "nguoi.moi@example.vn" in frame.locator("body").inner_text()
    link = frame.locator("a.button").get_attribute("href")
    assert link and CONFIRM.fullmatch(link), link
    assert link in admin.locator("pre.mail-text").first.inner_text()  # the plain-text part too
    _shoot(admin, "outbox")
    row.get_by_role("link").click()
    admin.wait_for_url(re.compile(r".*/console/outbox/\d{8}T\d{12}-msg_[A-Za-z0-9_]+\.eml"))
    _shoot(admin, "outbox-message")
    # The mail's link works: the reader confirms and is welcomed (that mail is kept too).
    reader.goto(link)
    reader.click("main button[type=submit]")
    assert "Đã đăng ký" in reader.inner_text("h1")
    wait_until(lambda: len(list((Path(fresh.env["BANTIN_VAR_DIR"]) / "outbox").glob("*.eml"))) >= 2, 60,
               "the welcome mail in the outbox", 0.5)  # fmt: skip
    reader.close()
    admin.close()


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_relay_that_does_not_answer_is_a_warning_a_banner_and_an_honest_form(
    tmp_path: Path, redis_url: str, browser: Browser
) -> None:
    port = _dead_port()
    settings = {"BANTIN_SMTP_HOST": "127.0.0.1", "BANTIN_SMTP_PORT": str(port), "BANTIN_SMTP_SECURITY": "plain"}
    with api_alone(tmp_path, redis_url, **settings) as stack:
        log = (tmp_path / "api.log").read_text(errors="replace")
        assert f"mail cannot be sent (failing): readers cannot sign up by e-mail; 127.0.0.1:{port}" in log
        form = httpx.get(f"{stack.base_url}/subscribe", timeout=10)
        assert form.status_code == 503 and "Tạm thời chưa đăng ký được qua thư" in form.text
        assert 'action="/subscribe"' not in form.text
        engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM subscribe_requests")).scalar() == 0
        engine.dispose()
        # The worker that would send the mail says so in its own log at start.
        stack.start_sender()
        warning = f"mail cannot be sent (failing): readers cannot sign up by e-mail; 127.0.0.1:{port}"
        wait_until(lambda: warning in (tmp_path / "sender.log").read_text(errors="replace"), 30, "the worker's warning")
        _admin(stack.env)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page.goto(f"{stack.base_url}/subscribe")
        _shoot(page, "subscribe-mail-unavailable")
        _sign_in(page, stack.base_url)
        banner = page.locator(".banner.warn")
        assert "Không gửi được thư điện tử." in banner.inner_text() and str(port) in banner.inner_text()
        _shoot(page, "dashboard-mail-failing")
        page.close()
