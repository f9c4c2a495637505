"""A welcome that keeps readers (issue 23 §3), end to end: the real API, worker and beat,
mail caught by aiosmtpd, pages and mails in Chromium.

Confirming delivers the welcome with what was chosen and a preferences link that opens the
reader's page in the browser; the confirmation page links there too; a reader asks for a
fresh link from the site and gets it by mail (and a stranger's address gets the same answer
and no mail); an article without a summary is introduced by the start of its body. Every
received mail is opened as a person sees it, at 375 and 1280 px, light and dark:
screenshots in ``test-output/screenshots/mail-*.png``. axe-core (WCAG 2.1 A/AA) checks each
page the reader visits and each mail in each of those looks.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

import httpx
from playwright.sync_api import Browser, Page

from service.text import text_of_html
from tests.integration.axe import assert_accessible
from tests.integration.receivers import Receivers
from tests.integration.stack import REPO, Stack
from tests.integration.test_reader_signup import _csrf, _link, _mails_to, _sign_up, _text, _wait_mail

SCREENSHOTS = REPO / "test-output" / "screenshots"
WIDTHS = (1280, 375)
PREFERENCES = r"http://\S+/subscribe/preferences/\d+/\d+\.[A-Za-z0-9_-]{43}"
# (background, text) of the mail's body as Chromium computes them: light, then dark.
COLOURS = "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.querySelector('.mail')).color]"


def _html(mail: EmailMessage) -> str:
    body = mail.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def _look(browser: Browser, mail: EmailMessage, name: str) -> None:
    """The mail's HTML part as a mail app shows it: at each width, light and dark; never wider than the screen."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for width in WIDTHS:
            page: Page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
            try:
                page.set_content(_html(mail), wait_until="load")
                scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                assert scroll <= inner, f"{name} ({scheme}): {scroll} px wide in a {inner} px window"
                background, ink = page.evaluate(COLOURS)
                light = (background, ink) == ("rgb(255, 255, 255)", "rgb(29, 36, 48)")
                dark = (background, ink) == ("rgb(22, 24, 28)", "rgb(232, 234, 237)")
                assert light if scheme == "light" else dark, (name, scheme, background, ink)
                size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.mail')).fontSize)")
                assert size >= 16, f"{name}: {size} px text"
                # Contrast and structure as a screen reader or a weak eye meets the mail, in each scheme.
                assert_accessible(page)
                page.screenshot(path=str(SCREENSHOTS / f"mail-{name}-{scheme}-{width}.png"), full_page=True)
            finally:
                page.close()


def _subscribed(stack: Stack, receivers: Receivers, address: str) -> None:
    """Sign ``address`` up and confirm it, as a reader without a browser would."""
    with httpx.Client(base_url=stack.base_url, timeout=10) as reader:
        _sign_up(reader, address)
        link = _link(_wait_mail(receivers, address, "Xác nhận"), r"http://\S+/subscribe/confirm/\S{43}")
        reader.post(link, data={"csrf_token": _csrf(reader.get(link))})


def test_confirming_delivers_a_welcome_whose_preferences_link_works(
    stack: Stack, receivers: Receivers, browser: Browser, publisher: httpx.Client, unique: str
) -> None:
    category = f"Thời sự {unique}"
    created = publisher.post(
        "/api/v1/articles", json={"title": f"Mở mục {unique}", "body_html": "<p>x</p>", "categories": [category]}
    )
    created.raise_for_status()
    address = f"chao.mung.{unique}@example.vn"
    page = browser.new_page(viewport={"width": 375, "height": 900}, locale="vi-VN")
    try:
        page.goto(f"{stack.base_url}/subscribe")
        assert_accessible(page)
        page.fill("#f-email", address)
        page.check("input[name=scope][value=some]")
        page.get_by_label(category).check()
        page.check("input[name=frequency][value=daily]")
        page.check("#f-consent")
        page.click("main button[type=submit]")
        page.wait_for_url("**/subscribe/sent?lang=vi")
        assert_accessible(page)
        confirmation = _wait_mail(receivers, address, "Xác nhận đăng ký")
        page.goto(_link(confirmation, r"http://\S+/subscribe/confirm/\S{43}"))
        assert_accessible(page)
        page.click("main button[type=submit]")
        assert "Đã đăng ký" in page.inner_text("h1")
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / "subscribe-confirmed-375.png"), full_page=True)
        # The confirmation page's own way to the preferences.
        page.get_by_role("link", name="Tùy chọn nhận tin của bạn").click()
        assert address in page.inner_text("main") and page.is_checked("input[name=frequency][value=daily]")
        assert_accessible(page)

        welcome = _wait_mail(receivers, address, "Chào mừng")
        text = _text(welcome)
        assert f"Chuyên mục: {category}" in text and "Tần suất: Tóm tắt hằng ngày" in text
        assert welcome.get_body(("plain",)) is not None and welcome.get_body(("html",)) is not None
        page.goto(_link(welcome, PREFERENCES))
        assert page.inner_text("h1") == "Tùy chọn nhận tin" and address in page.inner_text("main")
        assert page.is_checked(f"input[name=categories][value={created.json()['categories'][0]['slug']}]")
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / "subscribe-preferences-from-welcome-375.png"), full_page=True)
    finally:
        page.close()
    _look(browser, confirmation, "confirm")
    _look(browser, welcome, "welcome")


def test_a_reader_asks_the_site_for_a_fresh_preferences_link(
    stack: Stack, receivers: Receivers, browser: Browser, unique: str
) -> None:
    address = f"lien.ket.moi.{unique}@example.vn"
    _subscribed(stack, receivers, address)
    _wait_mail(receivers, address, "Chào mừng")
    stranger = f"nguoi.la.{unique}@example.vn"
    answers = []
    page = browser.new_page(viewport={"width": 375, "height": 900}, locale="vi-VN")
    try:
        page.goto(f"{stack.base_url}/subscribe")
        page.get_by_role("link", name="Nhận liên kết tới trang tùy chọn").click()
        page.wait_for_url("**/subscribe/manage")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll <= inner
            assert_accessible(page)
            page.screenshot(path=str(SCREENSHOTS / f"subscribe-manage-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 375, "height": 900})
        for typed in (address.upper(), stranger):
            page.goto(f"{stack.base_url}/subscribe/manage")
            page.fill("#f-email", typed)
            page.click("main button[type=submit]")
            page.wait_for_url("**/subscribe/manage/sent?lang=vi")
            answers.append(page.inner_text("main"))
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / "subscribe-manage-sent-375.png"), full_page=True)
        assert answers[0] == answers[1]
        manage = _wait_mail(receivers, address, "Quản lý đăng ký")
        page.goto(_link(manage, PREFERENCES))
        assert address in page.inner_text("main")
        assert_accessible(page)
    finally:
        page.close()
    assert _mails_to(receivers, stranger) == []
    _look(browser, manage, "manage")


def test_an_article_without_a_summary_is_mailed_with_the_start_of_its_body(
    stack: Stack, receivers: Receivers, browser: Browser, publisher: httpx.Client, unique: str
) -> None:
    address = f"bai.viet.{unique}@example.vn"
    _subscribed(stack, receivers, address)
    body = "<p>Sáng nay, Thành ủy Đà Nẵng tổ chức lễ kỷ niệm 97 năm Ngày thành lập Đảng.</p>" + "<p>Tiếp tục. </p>" * 60
    title = f"Lễ kỷ niệm {unique}"
    publisher.post("/api/v1/articles", json={"title": title, "body_html": body}).raise_for_status()
    mail = _wait_mail(receivers, address, title)
    lines = _text(mail).split("\n")
    whole = text_of_html(body)
    shown = lines[1].removesuffix("…")
    assert lines[1].endswith("…") and len(lines[1]) <= 300 and whole.startswith(shown)
    assert whole[len(shown)] in " ."  # cut between words, never inside one
    assert re.search(r"Sáng nay, Thành ủy", _html(mail))
    _look(browser, mail, "article")
