"""Readers subscribe themselves, end to end: the real API, worker and beat on PostgreSQL
and Redis, mail captured by a real aiosmtpd server, pages in a real browser.

subscribe → confirmation mail → GET landing (nothing yet) → POST confirm → an article is
published → its e-mail arrives with List-Unsubscribe and a preferences link → preferences
change → one-click unsubscribe; an expired link; the rate limit; export and forget; and no
log line of any process holds the reader's address. Screenshots of the pages at 1280 and
375 px go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.axe import assert_accessible
from tests.integration.receivers import Receivers
from tests.integration.stack import REPO, Stack, wait_until

SCREENSHOTS = REPO / "test-output" / "screenshots"
WIDTHS = (1280, 375)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def _sign_up(reader: httpx.Client, address: str, **form: Any) -> httpx.Response:
    token = _csrf(reader.get("/subscribe"))
    return reader.post(
        "/subscribe",
        data={"csrf_token": token, "email": address, "consent": "yes", "frequency": "each", "lang": "vi", **form},
    )


def _mails_to(receivers: Receivers, address: str) -> list[EmailMessage]:
    with receivers.lock:
        return [m for m in receivers.emails if str(m["To"]).lower() == address.lower()]


def _wait_mail(receivers: Receivers, address: str, subject: str) -> EmailMessage:
    def found() -> EmailMessage | None:
        return next((m for m in _mails_to(receivers, address) if subject in str(m["Subject"])), None)

    return wait_until(found, 30, f"a mail '{subject}' to the reader", 0.1)


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _link(mail: EmailMessage, pattern: str) -> str:
    found = re.search(pattern, _text(mail))
    assert found, _text(mail)
    return found.group(0)


def _export(stack: Stack, address: str) -> dict[str, Any]:
    result = stack.run("subscribers", "export", address)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.fixture
def reader(stack: Stack) -> Iterator[httpx.Client]:
    """A browser-like client: keeps its cookies, follows nothing by itself."""
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        yield client


def test_subscribe_confirm_receive_change_and_leave(
    stack: Stack,
    reader: httpx.Client,
    receivers: Receivers,
    publisher: httpx.Client,
    fresh_database: str,
    unique: str,
) -> None:
    address = f"ban.doc.{unique}@example.vn"
    category = f"Tin {unique}"
    publisher.post(
        "/api/v1/articles", json={"title": f"Mở chuyên mục {unique}", "body_html": "<p>x</p>", "categories": [category]}
    ).raise_for_status()
    answer = _sign_up(reader, address.upper())
    assert answer.status_code == 303 and answer.headers["location"] == "/subscribe/sent?lang=vi"
    confirmation = _wait_mail(receivers, address, "Xác nhận đăng ký")
    assert address in _text(confirmation) and "bỏ qua thư này" in _text(confirmation)
    link = _link(confirmation, rf"{re.escape(stack.base_url)}/subscribe/confirm/[A-Za-z0-9_-]{{43}}")
    # A mail scanner's GET changes nothing.
    landing = reader.get(link)
    assert landing.status_code == 200 and "Xác nhận" in landing.text
    assert _export(stack, address)["subscriptions"][0]["status"] == "pending"
    confirmed = reader.post(link, data={"csrf_token": _csrf(landing)})
    assert confirmed.status_code == 200 and "Đã đăng ký" in confirmed.text
    held = _export(stack, address)["subscriptions"][0]
    assert held["status"] == "active"
    assert held["consent"][0]["method"] == "form" and held["consent"][0]["client_address"] == "127.0.0.1"

    title = f"Bài cho bạn đọc {unique}"
    publisher.post(
        "/api/v1/articles", json={"title": title, "body_html": "<p>Nội dung.</p>", "categories": [category]}
    ).raise_for_status()
    article_mail = _wait_mail(receivers, address, title)
    assert article_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(article_mail["List-Unsubscribe"]).strip("<>")
    preferences = _link(
        article_mail, rf"{re.escape(stack.base_url)}/subscribe/preferences/\d+/\d+\.[A-Za-z0-9_-]{{43}}"
    )

    page = reader.get(preferences)
    assert page.status_code == 200 and address in page.text and category in page.text
    slug = re.search(r'name="categories" value="([^"]+)"', page.text)
    assert slug
    changed = reader.post(
        preferences,
        data={
            "csrf_token": _csrf(page),
            "action": "save",
            "scope": "some",
            "categories": slug.group(1),
            "frequency": "weekly",
        },
    )
    assert changed.status_code == 303
    held = _export(stack, address)["subscriptions"][0]
    assert held["frequency"] == "weekly" and held["categories"] == [slug.group(1)]
    # A weekly reader waits for the digest: the next article is announced without a message to it.
    later = publisher.post(
        "/api/v1/articles", json={"title": f"Bài sau {unique}", "body_html": "<p>x</p>", "categories": [category]}
    )
    later.raise_for_status()
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as connection:
            announced = text(
                "SELECT announced_at FROM outbox_events WHERE article_id = :id AND announced_at IS NOT NULL"
            )
            wait_until(
                lambda: connection.execute(announced, {"id": later.json()["id"]}).first(), 30, "the announcement"
            )
    finally:
        engine.dispose()
    # The confirmation, the welcome and the first article: none for the weekly reader's second.
    assert len(_export(stack, address)["subscriptions"][0]["deliveries"]) == 3

    # RFC 8058: a POST with exactly this body, no cookie, no token.
    one_click = httpx.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert one_click.status_code == 200
    held = _export(stack, address)["subscriptions"][0]
    assert held["status"] == "disabled" and held["status_reason"] == "unsubscribed by the recipient"
    # Every mail went through the delivery log.
    assert {d["status"] for d in held["deliveries"]} == {"delivered"} and len(held["deliveries"]) == 3


def test_asking_again_when_confirmed_sends_a_manage_mail_and_the_same_answer(
    stack: Stack, reader: httpx.Client, receivers: Receivers, unique: str
) -> None:
    address = f"lan.hai.{unique}@example.vn"
    first = _sign_up(reader, address)
    link = _link(_wait_mail(receivers, address, "Xác nhận"), r"http://\S+/subscribe/confirm/\S{43}")
    reader.post(link, data={"csrf_token": _csrf(reader.get(link))})
    again = _sign_up(reader, address)
    assert (again.status_code, again.headers["location"]) == (first.status_code, first.headers["location"])
    manage = _wait_mail(receivers, address, "Quản lý đăng ký")
    assert "/subscribe/preferences/" in _text(manage)
    assert len([m for m in _mails_to(receivers, address) if "Xác nhận" in str(m["Subject"])]) == 1


def test_an_expired_link_subscribes_nobody(
    stack: Stack, reader: httpx.Client, receivers: Receivers, fresh_database: str, unique: str
) -> None:
    address = f"het.han.{unique}@example.vn"
    _sign_up(reader, address)
    link = _link(_wait_mail(receivers, address, "Xác nhận"), r"http://\S+/subscribe/confirm/\S{43}")
    engine = create_engine(fresh_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE subscribe_requests SET expires_at = now() - interval '1 second' WHERE subscription_id IN "
                "(SELECT id FROM subscriptions WHERE target = :address)"
            ),
            {"address": address},
        )
    engine.dispose()
    token = _csrf(reader.get("/subscribe"))
    assert reader.get(link).status_code == 410
    refused = reader.post(link, data={"csrf_token": token})
    assert refused.status_code == 410 and "hết hạn" in refused.text
    assert _export(stack, address)["subscriptions"][0]["status"] == "pending"


def test_the_rate_limit_per_address_refuses_and_stores_nothing(
    stack: Stack, reader: httpx.Client, receivers: Receivers, unique: str
) -> None:
    address = f"nhieu.lan.{unique}@example.vn"
    for _ in range(3):  # BANTIN_SUBSCRIBE_PER_ADDRESS_PER_HOUR's default
        assert _sign_up(reader, address).status_code == 303
    refused = _sign_up(reader, address)
    assert refused.status_code == 429 and "thử lại sau" in refused.text
    assert len(_export(stack, address)["subscriptions"][0]["signup_requests"]) == 3
    wait_until(lambda: len(_mails_to(receivers, address)) >= 3, 30, "three confirmation mails")


def test_export_and_forget_leave_counts_and_a_suppression(
    stack: Stack, reader: httpx.Client, receivers: Receivers, admin: httpx.Client, unique: str
) -> None:
    address = f"quen.{unique}@example.vn"
    _sign_up(reader, address)
    link = _link(_wait_mail(receivers, address, "Xác nhận"), r"http://\S+/subscribe/confirm/\S{43}")
    reader.post(link, data={"csrf_token": _csrf(reader.get(link))})
    exported = admin.get("/api/v1/subscribers/export", params={"target": address}).json()
    [held] = exported["subscriptions"]
    assert held["consent"] and held["signup_requests"] and held["deliveries"]
    assert admin.post("/api/v1/subscribers/forget", json={"target": address}).json() == {"forgotten": 1}
    assert _export(stack, address) == {"target": address, "suppressed": True, "subscriptions": []}
    # The delivery rows stay, anonymous: the log's counts are still true.
    rows = admin.get("/api/v1/deliveries", params={"subscription": held["id"]}).json()
    assert rows["total"] == len(held["deliveries"])
    assert admin.post("/api/v1/subscriptions", json={"channel": "email", "target": address}).status_code == 409


def test_no_process_logged_a_readers_address(
    stack: Stack, reader: httpx.Client, receivers: Receivers, unique: str
) -> None:
    address = f"rieng.tu.{unique}@example.vn"
    _sign_up(reader, address)
    _wait_mail(receivers, address, "Xác nhận")
    logs = "".join(path.read_text(errors="replace") for path in stack.log_dir.glob("*.log"))
    assert "@example.vn" not in logs
    metrics = httpx.get(f"{stack.base_url}/metrics", timeout=10).text
    assert "@example.vn" not in metrics


def _shoot(browser: Any, url: str, name: str) -> None:
    """The page at each width: it fits, axe-core finds no WCAG 2.1 A/AA violation, then the screenshot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        try:
            response = page.goto(url, wait_until="load")
            assert response is not None and response.status == 200, url
            scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll <= inner, f"{name}: {scroll} px wide in a {inner} px window"
            assert_accessible(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        finally:
            page.close()


def test_the_pages_in_a_browser_at_desktop_and_phone_widths(
    browser: Any, stack: Stack, reader: httpx.Client, receivers: Receivers, publisher: httpx.Client, unique: str
) -> None:
    for name in ("Thời sự", "Xây dựng Đảng", "Kinh tế", "Văn hóa – Xã hội"):
        publisher.post(
            "/api/v1/articles", json={"title": f"{name} {unique}", "body_html": "<p>x</p>", "categories": [name]}
        ).raise_for_status()
    _shoot(browser, f"{stack.base_url}/subscribe", "subscribe")
    _shoot(browser, f"{stack.base_url}/subscribe?lang=en", "subscribe-en")
    # The form in a real browser: a missing consent comes back with the value kept and the error shown.
    page = browser.new_page(viewport={"width": 375, "height": 900})
    try:
        page.goto(f"{stack.base_url}/subscribe")
        page.fill("#f-email", f"trinh.duyet.{unique}@example.vn")
        page.click("main button[type=submit]")
        assert page.locator(".form-errors").is_visible()
        assert page.input_value("#f-email") == f"trinh.duyet.{unique}@example.vn"
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / "subscribe-error-375.png"), full_page=True)
        page.check("#f-consent")
        page.click("main button[type=submit]")
        page.wait_for_url("**/subscribe/sent?lang=vi")
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / "subscribe-sent-375.png"), full_page=True)
    finally:
        page.close()
    address = f"trinh.duyet.{unique}@example.vn"
    link = _link(_wait_mail(receivers, address, "Xác nhận"), r"http://\S+/subscribe/confirm/\S{43}")
    _shoot(browser, link, "subscribe-confirm")
    page = browser.new_page(viewport={"width": 375, "height": 900})
    try:
        page.goto(link)
        page.click("main button[type=submit]")  # the browser's own POST, with its cookie and Origin
        assert "Đã đăng ký" in page.inner_text("h1")
        assert_accessible(page)
    finally:
        page.close()
    manage_address = address
    _sign_up(reader, manage_address)
    manage = _wait_mail(receivers, manage_address, "Quản lý")
    _shoot(browser, _link(manage, r"http://\S+/subscribe/preferences/\S+"), "subscribe-preferences")
    _shoot(browser, str(manage["List-Unsubscribe"]).strip("<>"), "unsubscribe")
