"""Categories are chosen, and the console speaks Vietnamese (issue 20 §4, §6), in Chromium on
the real stack at 1280 and 375 px.

§4: a writer picks a category from the desk's list with the keyboard (the search ignores
diacritics; Enter ticks the one match), without typing a name. §6: after a reader signs up
(a pending subscription, a confirmation mail the SMTP server accepts) and a webhook gets an
article, the admin's delivery log and subscriber list say what happened in words (no
``reader.confirm``, no "HTTP 250", no English status reason), and the log is filtered by an
article title typed without diacritics and by part of an address. Screenshots go to
test-output/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.announce import Subscriber
from tests.integration.receivers import Receivers
from tests.integration.stack import Stack, wait_until
from tests.integration.test_console_browser import focus_editor, make_staff, run_cli, screenshot, signed_in

WRITER, ADMIN = "phongvienchon", "quantritu"
ENGLISH = ("reader.confirm", "article.published", "HTTP 250", "HTTP 200", "waiting for the reader", "paused by")


@pytest.fixture(scope="module")
def people(stack: Stack) -> None:
    make_staff(stack, (WRITER, "writer"), (ADMIN, "admin"))


@pytest.fixture
def writer(browser: Browser, stack: Stack, people: None) -> Iterator[Page]:
    yield from signed_in(browser, stack, WRITER)


@pytest.fixture
def admin_page(browser: Browser, stack: Stack, people: None) -> Iterator[Page]:
    yield from signed_in(browser, stack, ADMIN)


def fits_a_phone(page: Page) -> bool:
    page.set_viewport_size({"width": 375, "height": 900})
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    page.set_viewport_size({"width": 1280, "height": 900})
    return width <= 375


def test_a_writer_chooses_a_category_from_the_list_with_the_keyboard(
    stack: Stack, writer: Page, publisher: httpx.Client, unique: str
) -> None:
    names = (f"Xây dựng Đảng {unique}", f"Thời sự {unique}", f"Kinh tế {unique}")
    for name in names:
        made = run_cli(stack, "categories", "create", name)
        assert made.returncode == 0, made.stderr
    writer.goto("/console/articles/new")
    title = f"Hội nghị cán bộ chủ chốt {unique}"
    writer.get_by_label("Tiêu đề", exact=True).fill(title)
    focus_editor(writer)
    writer.keyboard.type("Nội dung hội nghị.")

    search = writer.get_by_label("Tìm chuyên mục")
    search.focus()
    writer.keyboard.type(f"xay dung dang {unique}")  # no diacritics, as one types fast
    expect(writer.get_by_role("checkbox", name=names[0])).to_be_visible()
    expect(writer.get_by_role("checkbox", name=names[1])).to_be_hidden()
    writer.keyboard.press("Enter")  # ticks the one match; does not submit the article
    expect(writer.get_by_role("checkbox", name=names[0])).to_be_checked()
    expect(writer).to_have_url(re.compile(r"/console/articles/new$"))
    # Keyboard only: from the search, Tab reaches the first box shown and Space ticks it.
    search.fill(f"thoi su {unique}")
    writer.keyboard.press("Tab")
    expect(writer.get_by_role("checkbox", name=names[1])).to_be_focused()
    writer.keyboard.press("Space")
    expect(writer.get_by_role("checkbox", name=names[1])).to_be_checked()
    search.fill("không có chuyên mục này")
    expect(writer.locator("#category-count")).to_have_text("Không có chuyên mục nào khớp.")
    search.fill("")
    assert fits_a_phone(writer)
    screenshot(writer, "editor-category-list")

    writer.get_by_role("button", name="Lưu nháp").click()
    expect(writer.get_by_role("status")).to_contain_text("đã được lưu nháp")
    article_id = writer.url.rsplit("/", 1)[1]
    saved = publisher.get(f"/api/v1/articles/{article_id}").json()
    assert sorted(c["name"] for c in saved["categories"]) == sorted(names[:2])


def test_the_delivery_log_and_subscribers_speak_vietnamese_and_filter_by_title_and_address(
    stack: Stack,
    admin_page: Page,
    admin: httpx.Client,
    publisher: httpx.Client,
    subscriber: Subscriber,
    receivers: Receivers,
    unique: str,
) -> None:
    address = f"ban-doc-{unique}@example.vn"
    with httpx.Client(base_url=stack.base_url, timeout=10) as reader:
        form = reader.get("/subscribe")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        answer = reader.post(
            "/subscribe",
            data={"csrf_token": token.group(1), "email": address, "consent": "yes", "frequency": "each", "lang": "vi"},
        )
        assert answer.status_code == 303, answer.text
    hook = subscriber.add("webhook", f"{receivers.base}/hooks/words-{unique}")
    title = f"Đại hội Đảng bộ tỉnh {unique}"
    published = publisher.post(
        "/api/v1/articles", json={"title": title, "body_html": "<p>Tin.</p>", "categories": [f"Tin {unique}"]}
    )
    assert published.status_code == 201, published.text
    wait_until(lambda: receivers.got(f"/hooks/words-{unique}"), 20, "the article at the webhook")
    paused = admin.patch(f"/api/v1/subscriptions/{hook['id']}", json={"status": "paused"})
    assert paused.status_code == 200, paused.text

    def log_shows(text: str) -> bool:
        admin_page.goto(f"/console/deliveries?subscription={address}")
        return text in admin_page.locator("main").inner_text()

    wait_until(lambda: log_shows("Máy chủ thư đã nhận"), 30, "the confirmation mail accepted")
    log = admin_page.locator("main")
    expect(log).to_contain_text("Thư xác nhận đăng ký")
    for english in ENGLISH:
        expect(log).not_to_contain_text(english)
    assert fits_a_phone(admin_page)
    screenshot(admin_page, "delivery-log-in-words")

    # Filters: part of an address, a title without its diacritics.
    admin_page.goto("/console/deliveries")
    admin_page.get_by_label("Thông báo").fill(f"dai hoi dang bo {unique}")
    admin_page.get_by_role("button", name="Lọc").click()
    expect(log).to_contain_text("Bài mới đăng")
    expect(log).not_to_contain_text("Thư xác nhận đăng ký")  # only the article's deliveries
    expect(log).to_contain_text(re.compile(r"Đã nhận \(mã 20\d\)"))
    screenshot(admin_page, "delivery-log-by-title")

    admin_page.goto("/console/subscribers")
    expect(log).to_contain_text("Đang chờ người đọc xác nhận qua thư")
    expect(log).to_contain_text("Quản trị viên tạm dừng")
    for english in ENGLISH:
        expect(log).not_to_contain_text(english)
    screenshot(admin_page, "subscribers-in-words")
