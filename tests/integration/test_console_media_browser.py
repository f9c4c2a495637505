"""Images in the console, in a real browser on the real stack: an editor uploads a cover
image and an image into the body, publishes, and the Atom feed (read with feedparser)
carries the cover as an enclosure with its length and type; the image is served from
/media/ without its EXIF. A renamed .exe, a truncated JPEG and a 20,000 × 20,000 "bomb"
are refused next to the field, keeping what was typed and storing nothing. Screenshots
at 1280 and 375 px go to test-output/screenshots/."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect

from tests.feedcheck import assert_valid_atom
from tests.integration.axe import assert_accessible
from tests.integration.stack import Stack, wait_until
from tests.integration.test_console_browser import focus_editor, run_cli, screenshot, sign_in
from tests.unit.media.samples import camera_exif, png_bomb, renamed_exe, truncated_jpeg

PASSWORD = "Mật khẩu biên tập ảnh 2026"
MEDIA_URL = re.compile(r"^http://127\.0\.0\.1:\d+/media/([0-9a-f]{64})\.(jpg|png)$")


@pytest.fixture(scope="module")
def editor_user(stack: Stack) -> str:
    created = run_cli(stack, "users", "create", "--username", "bientapanh", "--role", "editor", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    return "bientapanh"


@pytest.fixture
def page(browser: Browser, stack: Stack, editor_user: str) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(
        base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="vi-VN"
    )
    context.set_default_timeout(15_000)
    signed_in = context.new_page()
    sign_in(signed_in, editor_user, PASSWORD)
    expect(signed_in.get_by_role("heading", name="Tổng quan")).to_be_visible()
    yield signed_in
    context.close()


def media_dir(stack: Stack) -> Path:
    return Path(stack.env["BANTIN_VAR_DIR"]) / "media"


def stored_files(stack: Stack) -> set[str]:
    directory = media_dir(stack)
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def cover_photo() -> bytes:
    """A 1200 × 630 photo (the usual link-preview shape) as a phone saves it: EXIF with GPS and owner."""
    image = Image.radial_gradient("L").resize((1200, 630)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=camera_exif(orientation=1))
    return out.getvalue()


def choose_cover(page: Page, name: str, data: bytes, mime: str = "image/jpeg") -> None:
    payload: FilePayload = {"name": name, "mimeType": mime, "buffer": data}
    page.locator("#cover_file").set_input_files(files=[payload])


def atom_entry(client: httpx.Client, guid: str) -> Any:
    response = client.get("/feeds/atom.xml")
    if response.status_code != 200:
        return None
    return next((e for e in assert_valid_atom(response.content).entries if e.id == guid), None)


def test_an_editor_publishes_an_article_with_a_cover_image_and_the_feed_carries_it(
    stack: Stack, page: Page, anonymous: httpx.Client, unique: str
) -> None:
    page.goto("/console/articles/new")
    title = f"Lễ mít tinh kỷ niệm Ngày Quốc khánh {unique}"
    page.get_by_label("Tiêu đề").fill(title)
    page.get_by_label("Tóm tắt").fill("Sáng 2/9, lễ mít tinh được tổ chức trọng thể.")
    focus_editor(page)
    page.keyboard.type("Quang cảnh ")
    page.locator('trix-toolbar button[data-trix-attribute="bold"]').click()
    page.keyboard.type("buổi lễ")

    photo = cover_photo()
    choose_cover(page, "anh-bia.jpg", photo)
    expect(page.locator("#image_url")).to_have_value(MEDIA_URL)
    expect(page.locator("#cover-status")).to_have_text("Đã tải ảnh lên.")
    expect(page.locator("#cover-preview")).to_be_visible()
    expect(page.locator("#cover-preview")).to_have_attribute("src", MEDIA_URL)
    cover_url = page.locator("#image_url").input_value()
    match = MEDIA_URL.match(cover_url)
    assert match is not None
    digest = match.group(1)
    assert f"{digest}.jpg" in stored_files(stack)

    # An image dropped into the body goes through the editor's attachment upload.
    inline = io.BytesIO()
    Image.linear_gradient("L").resize((320, 200)).convert("RGB").save(inline, "PNG")
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const file = new File([bytes], "so-do.png", {type: "image/png"});
            document.querySelector("trix-editor").editor.insertFile(file);
        }""",
        base64.b64encode(inline.getvalue()).decode(),
    )
    expect(page.locator("#body_html")).to_have_value(
        re.compile(r'<img src="http://127\.0\.0\.1:\d+/media/[0-9a-f]{64}\.png"')
    )
    page.locator(".media-chooser summary").click()
    expect(page.locator("#recent-media button")).to_have_count(2)
    # Each image asks for its words: the cover's field, and one field per image of the body.
    expect(page.get_by_label("Mô tả ảnh 1")).to_be_visible()
    page.get_by_label("Mô tả ảnh bìa").fill("Khối diễu binh đi qua lễ đài Quảng trường Ba Đình")
    screenshot(page, "editor-cover-image")

    # The body's image has no words yet: publishing is refused, the message by that image.
    page.get_by_role("button", name="Xuất bản ngay").click()
    expect(page.locator(".error-summary")).to_contain_text("chưa có mô tả ảnh")
    body_alt = page.get_by_label("Mô tả ảnh 1")
    expect(body_alt).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#image-alt-list .field-error")).to_have_text(
        "Ảnh này chưa có mô tả; hãy viết ảnh cho thấy gì."
    )
    expect(page.get_by_label("Mô tả ảnh bìa")).to_have_value("Khối diễu binh đi qua lễ đài Quảng trường Ba Đình")
    assert "/articles/new" in page.url
    screenshot(page, "editor-alt-refused")

    body_alt.fill("Sơ đồ phân luồng giao thông quanh Quảng trường")
    expect(page.locator("#body_html")).to_have_value(
        re.compile(r'alt="Sơ đồ phân luồng giao thông quanh Quảng trường"')
    )
    page.get_by_role("button", name="Xuất bản ngay").click()
    expect(page.get_by_role("status")).to_contain_text("đã được xuất bản")
    # Stored without Trix's attachment data, the alt comes back into the editor from the <img>.
    expect(page.get_by_label("Mô tả ảnh 1")).to_have_value("Sơ đồ phân luồng giao thông quanh Quảng trường")
    expect(page.locator("#cover-preview")).to_have_attribute("src", cover_url)
    expect(page.locator("#cover-preview")).to_be_visible()
    screenshot(page, "editor-cover-published")
    article_id = page.url.rsplit("/", 1)[1]

    token = stack.create_token("publish")
    api = httpx.get(f"{stack.base_url}/api/v1/articles/{article_id}", headers={"Authorization": f"Bearer {token}"})
    assert api.json()["image_url"] == cover_url
    entry = wait_until(lambda: atom_entry(anonymous, api.json()["guid"]), 10, "the article in the Atom feed")
    served = anonymous.get(cover_url)
    (enclosure,) = entry.enclosures
    assert (enclosure.href, enclosure.type) == (cover_url, "image/jpeg")
    assert int(enclosure.length) == len(served.content)
    # feedparser re-serialises the HTML: the attribute order is its own.
    assert re.search(r'<img [^>]*src="http://127\.0\.0\.1:\d+/media/[0-9a-f]{64}\.png"', entry.content[0].value)
    assert 'alt="Sơ đồ phân luồng giao thông quanh Quảng trường"' in entry.content[0].value
    assert api.json()["image_alt"] == "Khối diễu binh đi qua lễ đài Quảng trường Ba Đình"

    # The public article, with both images, as a reader (and axe) sees it.
    page.goto(api.json()["url"].removeprefix(stack.base_url))
    expect(page.locator(".story__cover img")).to_have_attribute(
        "alt", "Khối diễu binh đi qua lễ đài Quảng trường Ba Đình"
    )
    assert_accessible(page)
    assert "<strong>buổi lễ</strong>" in entry.content[0].value

    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert b"CanonSecretCam" not in served.content and b"CanonSecretCam" in photo
    assert Image.open(io.BytesIO(served.content)).size == (1200, 630)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("chuong-trinh.jpg", renamed_exe(), "không phải ảnh"),
        ("anh-hong.jpg", truncated_jpeg(), "bị hỏng"),
        ("bom.png", png_bomb(), "quá lớn"),
    ],
    ids=["renamed exe", "truncated jpeg", "decompression bomb"],
)
def test_a_bad_image_is_refused_next_to_the_field_and_nothing_is_stored(
    stack: Stack, page: Page, name: str, data: bytes, words: str, unique: str
) -> None:
    page.goto("/console/articles/new")
    title = f"Bài có ảnh hỏng {unique}"
    page.get_by_label("Tiêu đề").fill(title)
    page.locator("#image_url").fill("https://anh.example.org/bia-cu.jpg")
    listed_before = page.request.get("/console/media").json()["media"]
    files_before = stored_files(stack)

    choose_cover(page, name, data, "image/png" if name.endswith(".png") else "image/jpeg")

    error = page.locator("#cover_file-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(words)
    expect(page.locator("#cover_file")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#image_url")).to_have_value("https://anh.example.org/bia-cu.jpg")
    expect(page.get_by_label("Tiêu đề")).to_have_value(title)
    expect(page.locator("#cover-preview")).to_be_hidden()  # the old address does not answer here
    assert stored_files(stack) == files_before
    assert page.request.get("/console/media").json()["media"] == listed_before
    if name.startswith("bom"):
        screenshot(page, "editor-cover-refused")
