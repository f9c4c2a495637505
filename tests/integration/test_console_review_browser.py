"""The review page as a place to review (issue 20 §3), in Chromium on the real stack.

A writer submits an article with a wide cover and a wide image in its body. At 375 px the
editor's review page fits the screen (the cover a thumbnail, the body image within its
column, no raw address); "Xem trước" opens the preview the writer sees; the editor corrects
a typo in place, the article stays in review and the page names who changed it; returned
with a comment, the article is on the writer's start page with that comment, and the
writer's start page shows no delivery health. Screenshots at 1280 and 375 px go to
test-output/screenshots/.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.integration.stack import Stack
from tests.integration.test_console_browser import focus_editor, make_staff, screenshot, signed_in

WRITER, EDITOR = "phongvienduyet", "bientapduyet"


@pytest.fixture(scope="module")
def people(stack: Stack) -> None:
    make_staff(stack, (WRITER, "writer"), (EDITOR, "editor"))


@pytest.fixture
def writer(browser: Browser, stack: Stack, people: None) -> Iterator[Page]:
    yield from signed_in(browser, stack, WRITER)


@pytest.fixture
def editor(browser: Browser, stack: Stack, people: None) -> Iterator[Page]:
    yield from signed_in(browser, stack, EDITOR)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "PNG")
    return out.getvalue()


def page_width_at(page: Page, width: int) -> int:
    """The document's scroll width with the viewport ``width`` px wide, images loaded."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    return int(page.evaluate("document.documentElement.scrollWidth"))


def submit_with_wide_images(writer: Page, title: str) -> str:
    """The writer's article with a 1600 px cover and a 1400 px body image, sent for review; its address."""
    writer.goto("/console/articles/new")
    writer.get_by_label("Tiêu đề", exact=True).fill(title)
    focus_editor(writer)
    writer.keyboard.type("Quang cảnh buổi lễ kỷ niệm.")
    cover: FilePayload = {"name": "bia.png", "mimeType": "image/png", "buffer": png(1600, 800)}
    writer.locator("#cover_file").set_input_files(files=[cover])
    expect(writer.locator("#cover-status")).to_have_text("Đã tải ảnh lên.")
    writer.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const file = new File([bytes], "rong.png", {type: "image/png"});
            document.querySelector("trix-editor").editor.insertFile(file);
        }""",
        base64.b64encode(png(1400, 300)).decode(),
    )
    expect(writer.locator("#body_html")).to_have_value(re.compile(r"<img src=\"http"))
    writer.get_by_role("button", name="Gửi duyệt").click()
    expect(writer.get_by_text("đã được gửi cho ban biên tập duyệt")).to_be_visible()
    return writer.url.replace(writer.url.split("/console/")[0], "")


def test_an_editor_reviews_on_a_phone_previews_corrects_in_place_and_returns_with_a_comment(
    writer: Page, editor: Page, unique: str
) -> None:
    title = f"Lễ kỷ niệm ngày thành lập {unique}"
    address = submit_with_wide_images(writer, title)

    editor.goto(address)
    expect(editor.get_by_role("heading", name="Duyệt bài")).to_be_visible()
    cover = editor.locator(".review-cover img")
    expect(cover).to_be_visible()
    assert page_width_at(editor, 375) <= 375, "the review page is wider than a phone"
    box = cover.bounding_box()
    assert box is not None and box["width"] <= 375
    assert "/media/" not in editor.locator(".preview").inner_text()  # the cover is an image, not its address
    editor.set_viewport_size({"width": 1280, "height": 900})
    screenshot(editor, "review-page-wide-images")

    editor.get_by_role("link", name="Xem trước").click()
    expect(editor).to_have_url(f"{editor.url.split('/console/')[0]}{address}/preview")
    expect(editor.get_by_role("heading", name="Xem trước")).to_be_visible()

    editor.goto(address)
    editor.get_by_role("link", name="Sửa lỗi trực tiếp").click()
    editor.get_by_label("Tiêu đề", exact=True).fill(title.replace("Lễ", "Lễ trọng thể"))
    editor.get_by_role("button", name="Lưu chỉnh sửa (bài vẫn chờ duyệt)").click()
    expect(editor.get_by_text("vẫn chờ duyệt").first).to_be_visible()
    expect(editor.get_by_role("heading", name="Duyệt bài")).to_be_visible()  # still in review
    corrections = editor.locator(".corrections li")
    expect(corrections).to_have_count(1)
    expect(corrections.first).to_contain_text(EDITOR)
    screenshot(editor, "review-page-corrected-in-place")

    editor.get_by_label("Trả lại kèm nhận xét").fill("Bổ sung nguồn tin và chú thích ảnh.")
    editor.get_by_role("button", name="Trả lại cho người viết").click()
    expect(editor.get_by_text("đã được trả lại cho người viết")).to_be_visible()

    writer.goto("/console/")
    returned = writer.locator("section.returned")
    expect(returned.get_by_role("link", name=title.replace("Lễ", "Lễ trọng thể"))).to_be_visible()
    expect(returned).to_contain_text("Bổ sung nguồn tin và chú thích ảnh.")
    expect(returned).to_contain_text(EDITOR)
    expect(writer.get_by_text("Gửi tin 24 giờ qua")).to_have_count(0)
    expect(writer.get_by_role("heading", name="Chờ duyệt")).to_have_count(0)
    assert page_width_at(writer, 375) <= 375
    writer.set_viewport_size({"width": 1280, "height": 900})
    screenshot(writer, "writer-dashboard-returned")
