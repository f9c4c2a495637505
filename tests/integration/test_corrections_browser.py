"""Corrections in a real browser on the real stack (decision 0043): an editor publishes one
from the article's page in the console (an empty field first: refused by name, in
Vietnamese); the public page shows the notice at the top with its date, /cai-chinh lists
it; a withdrawal's reason is on the 410 page. Every page passes axe at 1280 and 375 px."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import BrowserContext, expect

from tests.integration.stack import Stack
from tests.integration.test_console_browser import PASSWORD, make_staff, screenshot, sign_in

EDITOR = "bientap_caichinh"


def _publish(stack: Stack, title: str) -> dict[str, object]:
    token = stack.create_token("publish")
    response = httpx.post(
        f"{stack.base_url}/api/v1/articles",
        json={
            "title": title,
            "body_html": "<p>Sáng 3/2, lễ kỷ niệm diễn ra trang trọng.</p>",
            "categories": ["Thời sự"],
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_editor_publishes_a_correction_and_readers_see_it(stack: Stack, context: BrowserContext) -> None:
    article = _publish(stack, "Kỷ niệm 97 năm Ngày thành lập Đảng tại Đà Nẵng")
    gone = _publish(stack, "Bài sẽ được gỡ")
    make_staff(stack, (EDITOR, "editor"))
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()

    page.goto(f"/console/articles/{article['id']}")
    page.get_by_role("link", name="Đăng cải chính…").click()
    expect(page.get_by_role("heading", name=f"Cải chính bài “{article['title']}”")).to_be_visible()
    page.get_by_label("Thông tin đúng").fill("Lễ kỷ niệm diễn ra sáng 3/2/2027.")
    page.get_by_role("button", name="Đăng cải chính").click()
    expect(page.get_by_role("alert")).to_contain_text("Thông tin chưa chính xác: Không được để trống.")
    expect(page.get_by_label("Thông tin đúng")).to_have_value("Lễ kỷ niệm diễn ra sáng 3/2/2027.")
    screenshot(page, "correction-form-refused")
    page.get_by_label("Thông tin chưa chính xác").fill("Lễ kỷ niệm diễn ra sáng 2/2/2027.")
    page.get_by_label("Tòa soạn xin lỗi bạn đọc (xin lỗi công khai)").check()
    page.get_by_role("button", name="Đăng cải chính").click()
    expect(page.get_by_text(f"Đã đăng cải chính bài “{article['title']}”.")).to_be_visible()

    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y")
    page.goto(f"/articles/{article['id']}/{article['slug']}")
    notice = page.locator("article.story > aside.correction").first
    expect(notice).to_contain_text(f"Cải chính, xin lỗi ngày {today}")
    expect(notice).to_contain_text("Lễ kỷ niệm diễn ra sáng 2/2/2027.")
    expect(notice).to_contain_text("Tòa soạn xin lỗi bạn đọc")
    assert page.evaluate("document.querySelector('article.story').firstElementChild.matches('aside.correction')")
    screenshot(page, "article-with-correction")

    page.get_by_role("contentinfo").get_by_role("link", name="Cải chính").click()
    expect(page.get_by_role("heading", name="Cải chính", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=str(article["title"]))).to_be_visible()
    screenshot(page, "corrections-list")

    page.goto(f"/console/articles/{gone['id']}/withdraw")
    page.get_by_label("Lý do gỡ bài").fill("Bài có thông tin chưa được kiểm chứng.")
    page.get_by_role("button", name="Gỡ bài").click()
    expect(page.get_by_text(f"Bài “{gone['title']}” đã được gỡ khỏi mọi kênh.")).to_be_visible()
    response = page.goto(f"/articles/{gone['id']}/{gone['slug']}")
    assert response is not None and response.status == 410
    expect(page.locator(".gone-reason")).to_contain_text("Bài có thông tin chưa được kiểm chứng.")
    screenshot(page, "withdrawn-with-reason")
