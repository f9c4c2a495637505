"""The console in English and the preview before publishing, in a real browser on the real stack.

An editor made with the CLI switches the console to English from its header, writes a
Vietnamese article with bold text and opens the preview: the public page, the feed entry
and the Telegram/e-mail announcement, in Vietnamese as readers get them. Nothing is saved
by previewing. Screenshots at 1280 and 375 px go to test-output/screenshots/.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.integration.axe import assert_accessible
from tests.integration.stack import Stack
from tests.integration.test_console_browser import SCREENSHOTS, WIDTHS, focus_editor, run_cli, screenshot, sign_in

PASSWORD = "Mật khẩu biên tập 2026"


def tall_screenshot(page: Page, name: str) -> None:
    """Like ``screenshot``, with a viewport as tall as the page: Chromium leaves sandboxed
    frames below the fold unpainted in a full-page capture, and the previews are such frames.
    axe-core checks the page first at each width, as ``screenshot`` does."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # the frames paint once they are in view
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture(scope="module")
def editor_user(stack: Stack) -> str:
    created = run_cli(stack, "users", "create", "--username", "bientap_en", "--role", "editor", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    return "bientap_en"


def test_an_editor_switches_to_english_and_previews_a_vietnamese_article(
    stack: Stack, editor_user: str, context: BrowserContext, unique: str
) -> None:
    page = context.new_page()
    sign_in(page, editor_user, PASSWORD)
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Latest articles")).to_be_visible()
    screenshot(page, "language-dashboard-en")

    # Remembered: the editor opened from the menu is English too.
    page.get_by_role("link", name="Write", exact=True).click()
    expect(page.get_by_role("heading", name="Write")).to_be_visible()
    title = f"Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam {unique}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary").fill("Sáng 3/2, Thành ủy tổ chức lễ kỷ niệm trọng thể.")
    page.get_by_label("Categories").fill(f"Xây dựng Đảng {unique}")
    focus_editor(page)
    page.keyboard.type("Buổi lễ diễn ra ")
    page.locator('trix-toolbar button[data-trix-attribute="bold"]').click()
    page.keyboard.type("trang trọng")
    expect(page.locator("#body_html")).to_have_value(re.compile(r"<strong>trang trọng</strong>"))
    expect(page.get_by_role("button", name="Save draft")).to_be_visible()
    screenshot(page, "language-editor-en")
    count_before = httpx.get(f"{stack.base_url}/feeds/atom.xml").text.count("<entry>")

    with context.expect_page() as opened:
        page.get_by_role("button", name="Preview", exact=True).click()
    preview = opened.value
    preview.wait_for_load_state()
    expect(preview.get_by_role("heading", name="Preview", exact=True)).to_be_visible()
    # 1. The public page as readers will see it (Vietnamese), bold text included.
    public = preview.frame_locator("iframe[title='Public article page']")
    expect(public.locator("h1.story__title")).to_have_text(title)
    expect(public.locator(".prose strong")).to_have_text("trang trọng")
    expect(public.get_by_role("link", name="Đăng ký nhận tin").first).to_be_visible()
    # 2. The feed entry from the feeds' own code.
    expect(preview.locator(".entry-title")).to_have_text(title)
    expect(preview.locator(".entry-guid")).to_contain_text("urn:uuid:")
    expect(preview.locator(".entry-link")).to_contain_text("/articles/0/ky-niem-97-nam")
    feed_content = preview.frame_locator("iframe[title='Content of the feed entry']")
    expect(feed_content.locator("strong")).to_have_text("trang trọng")
    # 3. The announcements, as Vietnamese subscribers get them.
    expect(preview.locator(".telegram-bubble b")).to_have_text(f"Bài mới: {title}")
    expect(preview.locator(".mail-subject")).to_have_text(f"Bài mới: {title}")
    expect(preview.locator(".mail-text")).to_contain_text("Sáng 3/2, Thành ủy tổ chức lễ kỷ niệm trọng thể.")
    tall_screenshot(preview, "preview-unsaved")
    preview.close()

    # Nothing was saved by the preview; saving the draft and previewing it shows its GUID.
    assert httpx.get(f"{stack.base_url}/feeds/atom.xml").text.count("<entry>") == count_before
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("has been saved as a draft")
    article_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Preview the saved version").click()
    expect(page.locator(".entry-link")).to_contain_text(f"/articles/{article_id}/ky-niem-97-nam")
    expect(page.locator(".entry-guid")).not_to_contain_text("urn:uuid:…")
    tall_screenshot(page, "preview-saved")

    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", name="Xem trước", exact=True)).to_be_visible()
    page.goto("/console/")
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
