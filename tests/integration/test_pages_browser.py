"""Public pages in a real browser (Playwright driving Debian's chromium) against the real
API, worker and beat on PostgreSQL, and the link preview a chat app builds without JavaScript.

Screenshots of home, category and article pages at 1280 and 375 px are written to
``test-output/screenshots/`` for a person to look at; axe-core checks each page at each
width first (WCAG 2.1 A/AA), with the seed's cover and body image in view.
"""

from __future__ import annotations

import http.server
import struct
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lxml import html

from tests.integration.axe import assert_accessible
from tests.integration.stack import REPO, free_port

SCREENSHOTS = REPO / "test-output" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "mobile": (375, 812)}
SEED_TITLE = "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"
SEED_BODY = (
    "<p>Sáng 3/2, Thành ủy Đà Nẵng long trọng tổ chức lễ kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản "
    "Việt Nam (3/2/1930 - 3/2/2027). Dự buổi lễ có đại diện lãnh đạo Thành ủy, HĐND, UBND, Ủy ban MTTQ "
    "Việt Nam thành phố cùng đông đảo cán bộ, đảng viên và nhân dân.</p>"
    "<h2>Ôn lại truyền thống vẻ vang</h2>"
    "<p>Phát biểu tại buổi lễ, đồng chí Bí thư Thành ủy nhấn mạnh: trải qua chặng đường 97 năm, Đảng ta "
    "đã lãnh đạo nhân dân giành những thắng lợi to lớn, có ý nghĩa lịch sử. Những kết quả đạt được khẳng "
    "định đường lối đúng đắn, sáng tạo của Đảng; là nền tảng để thành phố tiếp tục phát triển nhanh, "
    "bền vững.</p>"
    "<blockquote><p>“Không có gì quý hơn độc lập, tự do.”</p></blockquote>"
    "<ul><li>Tuyên dương 97 đảng viên tiêu biểu;</li><li>Trao Huy hiệu 60 năm, 70 năm tuổi Đảng.</li></ul>"
    '<figure><img src="{image_host}/anh/huy-hieu.png" alt="Đồng chí Bí thư Thành ủy trao Huy hiệu 60 năm tuổi Đảng">'
    "<figcaption>Trao Huy hiệu Đảng tại buổi lễ.</figcaption></figure>"
    "<p>Địa chỉ chi tiết: https://dukccq.danang.gov.vn/chinh-tri/ky-niem-97-nam-ngay-thanh-lap-dang-cong-san-"
    "viet-nam-3-2-1930-3-2-2027-4513</p>"
)


def png(width: int, height: int) -> bytes:
    """A gradient PNG made here (no image library): the cover the seed article points at."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            row += bytes((150 + 90 * x // width, 30 + 40 * y // height, 30))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    """A local web server holding the cover and the body's image, as the source site would."""
    cover = png(1200, 675)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in ("/anh/le-ky-niem.png", "/anh/huy-hieu.png"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(cover)))
            self.end_headers()
            self.wfile.write(cover)

        def log_message(self, *_: Any) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def seed_article(publisher: httpx.Client, image_host: str) -> dict[str, Any]:
    # Older news first, so the seed article leads the home page.
    for n, title in enumerate(("Đà Nẵng đón hơn 1,2 triệu lượt khách dịp Tết", "Hội nghị Ban Chấp hành Đảng bộ")):
        publisher.post(
            "/api/v1/articles",
            json={"title": title, "body_html": f"<p>Tin số {n}.</p>", "categories": ["Thời sự", "Xây dựng Đảng"]},
        ).raise_for_status()
    response = publisher.post(
        "/api/v1/articles",
        json={
            "title": SEED_TITLE,
            "summary": "Thành ủy Đà Nẵng tổ chức lễ kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam, "
            "ôn lại truyền thống vẻ vang và tuyên dương đảng viên tiêu biểu.",
            "body_html": SEED_BODY.format(image_host=image_host),
            "categories": ["Xây dựng Đảng"],
            "author": "Ban Tuyên giáo Thành ủy",
            "image_url": f"{image_host}/anh/le-ky-niem.png",
            "image_caption": "Quang cảnh lễ kỷ niệm. Ảnh: dukccq.danang.gov.vn",
            "image_alt": "Đại biểu dâng hoa trước tượng đài Chủ tịch Hồ Chí Minh",
            "source_name": "dukccq.danang.gov.vn",
            "source_url": "https://dukccq.danang.gov.vn/chinh-tri/ky-niem-97-nam-4513",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_page(browser: Any, url: str, width: int, height: int) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return page, problems


def assert_no_horizontal_scroll(page: Any, what: str) -> None:
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"{what}: {scroll_width} px wide in a {inner_width} px window"


@pytest.mark.parametrize("device", WIDTHS)
def test_seed_article_renders_with_source_cover_and_category(
    browser: Any, stack: Any, seed_article: dict[str, Any], device: str
) -> None:
    width, height = WIDTHS[device]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, problems = open_page(browser, seed_article["url"], width, height)
    try:
        assert page.locator("h1.story__title").inner_text() == SEED_TITLE
        source = page.locator("p.source")
        assert " ".join(source.inner_text().split()) == "Nguồn: dukccq.danang.gov.vn"
        assert source.locator("a").get_attribute("href") == "https://dukccq.danang.gov.vn/chinh-tri/ky-niem-97-nam-4513"
        cover = page.locator("figure.story__cover img")
        assert cover.evaluate("img => img.complete && img.naturalWidth") == 1200
        assert cover.bounding_box()["width"] <= width
        caption = page.locator("figure.story__cover figcaption")
        assert caption.is_visible() and caption.inner_text() == "Quang cảnh lễ kỷ niệm. Ảnh: dukccq.danang.gov.vn"
        category = page.locator("header.story__head a[href='/categories/xay-dung-dang']")
        assert category.is_visible() and category.inner_text().lower() == "xây dựng đảng"
        assert page.locator("a[href='/subscribe']").first.is_visible()
        # Our stylesheet and inline accent applied: nothing the CSP refused.
        assert page.evaluate("getComputedStyle(document.body).lineHeight") != "normal"
        assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent')") == "#b3261e"
        body_image = page.locator(".prose figure img")
        assert body_image.evaluate("img => img.complete && img.naturalWidth") == 1200
        assert body_image.get_attribute("alt") == "Đồng chí Bí thư Thành ủy trao Huy hiệu 60 năm tuổi Đảng"
        assert problems == [], problems
        assert_no_horizontal_scroll(page, f"article at {width} px")
        assert_accessible(page)
        # The title's lines leave room for stacked marks: the box is taller than its font size per line.
        line_height, font_size = page.evaluate(
            "(() => { const s = getComputedStyle(document.querySelector('h1.story__title'));"
            " return [parseFloat(s.lineHeight), parseFloat(s.fontSize)]; })()"
        )
        assert line_height >= 1.3 * font_size
        page.screenshot(path=str(SCREENSHOTS / f"article-{width}.png"), full_page=True)
        # A close-up of the title, to check by eye that no stacked diacritic is clipped.
        page.locator("h1.story__title").screenshot(path=str(SCREENSHOTS / f"article-title-{width}.png"))
    finally:
        page.close()


@pytest.mark.parametrize("device", WIDTHS)
def test_home_and_category_pages_fit_the_screen(
    browser: Any, stack: Any, seed_article: dict[str, Any], device: str
) -> None:
    width, height = WIDTHS[device]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (("home", "/"), ("category", "/categories/xay-dung-dang"), ("home-en", "/?lang=en")):
        page, problems = open_page(browser, f"{stack.base_url}{path}", width, height)
        try:
            titles = page.locator("h2.card__title a").all_inner_texts()
            assert SEED_TITLE in titles
            # "^=": the English pages' links carry ?lang=en after the path.
            assert page.locator(f"a[href^='/articles/{seed_article['id']}/{seed_article['slug']}']").first.is_visible()
            assert problems == [], problems
            assert_no_horizontal_scroll(page, f"{name} at {width} px")
            assert_accessible(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        finally:
            page.close()


@pytest.mark.parametrize("device", WIDTHS)
def test_the_not_found_page_is_accessible(browser: Any, stack: Any, device: str) -> None:
    """A reader who follows a dead link meets the site's own page: it says so, and passes axe."""
    width, height = WIDTHS[device]
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        response = page.goto(f"{stack.base_url}/articles/999999/khong-co", wait_until="load")
        assert response is not None and response.status == 404
        assert page.locator("a.button[href='/']").is_visible()
        assert_no_horizontal_scroll(page, f"not found at {width} px")
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / f"not-found-{width}.png"), full_page=True)
    finally:
        page.close()


def test_link_preview_without_javascript(seed_article: dict[str, Any]) -> None:
    """What Zalo, Telegram or Facebook do: fetch the page, read <head>, fetch the image."""
    response = httpx.get(seed_article["url"], headers={"User-Agent": "TelegramBot (like TwitterBot)"}, timeout=10)
    assert response.status_code == 200
    head = html.fromstring(response.content).find("head")
    assert head is not None, "the page has no <head>"
    tags = {m.get("property"): m.get("content", "") for m in head.iter("meta") if m.get("property")}
    assert tags["og:title"] == SEED_TITLE
    assert tags["og:description"].startswith("Thành ủy Đà Nẵng tổ chức lễ kỷ niệm")
    assert tags["og:image"].startswith("http://127.0.0.1:") and tags["og:image"].endswith("/anh/le-ky-niem.png")
    assert tags["og:locale"] == "vi_VN"
    assert tags["og:url"] == seed_article["url"]
    image = httpx.get(tags["og:image"], timeout=10)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_page_validators_against_the_real_stack(seed_article: dict[str, Any], anonymous: httpx.Client) -> None:
    path = str(seed_article["url"]).removeprefix(str(anonymous.base_url).rstrip("/"))
    first = anonymous.get(path)
    assert anonymous.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    head = anonymous.head(path)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == first.headers["etag"]
    assert anonymous.get(f"/articles/{seed_article['id']}/ten-cu", follow_redirects=False).status_code == 301
