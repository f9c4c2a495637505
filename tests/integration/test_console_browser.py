"""The staff console in a real browser (Debian's chromium driven by Playwright) on the
real stack: an admin made with the CLI signs in, writes, publishes, edits and withdraws
an article and sees each step in the Atom feed; bad input, a forged POST and a password
guesser are refused. Screenshots of each page at 1280 and 375 px go to
test-output/screenshots/ for a person to look at."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.feedcheck import assert_valid_atom
from tests.integration.axe import assert_accessible
from tests.integration.stack import REPO, Stack, wait_until

SCREENSHOTS = REPO / "test-output" / "screenshots"
PASSWORD = "Mật khẩu quản trị 2026"
WIDTHS = {"desktop": 1280, "mobile": 375}


def run_cli(stack: Stack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        env=stack.env,
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def admin_user(stack: Stack) -> str:
    created = run_cli(stack, "users", "create", "--username", "quantri", "--role", "admin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    listed = run_cli(stack, "users", "list")
    assert "quantri\tadmin\tactive" in listed.stdout
    return "quantri"


def screenshot(page: Page, name: str) -> None:
    """The page at desktop and phone widths, whole length; axe checks it first at each width
    (what a person sees, axe does too: the phone's layout hides and restyles parts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/console/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def make_staff(stack: Stack, *people: tuple[str, str]) -> None:
    """Create each (username, role) with ``bantin users create``, as an operator would."""
    for username, role in people:
        created = run_cli(stack, "users", "create", "--username", username, "--role", role, stdin=PASSWORD + "\n")
        assert created.returncode == 0, created.stderr


def signed_in(browser: Browser, stack: Stack, username: str, password: str = PASSWORD) -> Iterator[Page]:
    """A fresh context (1280 px, Vietnamese) signed in as ``username`` on its start page; closed after."""
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, username, password)
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    yield page
    context.close()


def focus_editor(page: Page) -> None:
    """Click into Trix once it has started (its element exists before its editor does)."""
    page.wait_for_function("document.querySelector('trix-editor').editor !== undefined")
    page.locator("trix-editor").click()


def atom_entry(client: httpx.Client, guid: str) -> dict[str, str] | None:
    response = client.get("/feeds/atom.xml")
    if response.status_code != 200:
        return None
    for entry in assert_valid_atom(response.content).entries:
        if entry.id == guid:
            return {"title": entry.title, "content": entry.content[0].value}
    return None


def article_count(page: Page) -> int:
    page.goto("/console/articles")
    text = page.locator("p.count").inner_text()
    return int(text.split(" ", 1)[0])


def test_an_admin_writes_publishes_edits_and_withdraws_an_article(
    stack: Stack, admin_user: str, context: BrowserContext, anonymous: httpx.Client, unique: str
) -> None:
    page = context.new_page()
    page.goto("/console/")
    expect(page).to_have_url(f"{stack.base_url}/console/login?next=/console/")
    screenshot(page, "login")
    sign_in(page, admin_user, PASSWORD)
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()

    page.get_by_role("link", name="Viết bài", exact=True).click()
    title = f"Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam {unique}"
    page.get_by_label("Tiêu đề").fill(title)
    page.get_by_label("Tóm tắt").fill("Sáng 3/2, Thành ủy tổ chức lễ kỷ niệm.")
    page.get_by_label("Chuyên mục mới").fill(f"Thời sự {unique}")
    page.get_by_label("Tác giả").fill("Ban Tuyên giáo")
    focus_editor(page)
    page.keyboard.type("Nội dung buổi lễ ")
    bold = page.locator('trix-toolbar button[data-trix-attribute="bold"]')
    bold.click()
    expect(bold).to_have_class(re.compile(r"trix-active"))
    page.keyboard.type("trang trọng")
    # Trix writes the HTML into the hidden field the form posts (its trailing space as &nbsp;).
    expect(page.locator("#body_html")).to_have_value(
        re.compile(r"^<div>Nội dung buổi lễ(&nbsp;| )<strong>trang trọng</strong></div>$")
    )
    screenshot(page, "editor-new")
    page.get_by_role("button", name="Xuất bản ngay").click()
    expect(page.get_by_role("status")).to_contain_text("đã được xuất bản")
    article_id = page.url.rsplit("/", 1)[1]
    screenshot(page, "editor-published")

    publisher_token = stack.create_token("publish")
    api = httpx.get(
        f"{stack.base_url}/api/v1/articles/{article_id}", headers={"Authorization": f"Bearer {publisher_token}"}
    ).json()
    assert api["title"] == title and api["created_by"] == f"user:{admin_user}"
    guid = api["guid"]
    entry = wait_until(lambda: atom_entry(anonymous, guid), 10, "the article in the Atom feed")
    assert entry["title"] == title
    assert "<strong>trang trọng</strong>" in entry["content"]

    page.get_by_label("Tiêu đề").fill(f"{title} (cập nhật)")
    page.get_by_role("button", name="Cập nhật bài đã đăng").click()
    expect(page.get_by_role("status")).to_contain_text("đã được xuất bản")
    updated = wait_until(
        lambda: (e := atom_entry(anonymous, guid)) and e["title"].endswith("(cập nhật)") and e,
        10,
        "the new title under the same GUID",
    )
    assert updated["title"] == f"{title} (cập nhật)"
    assert guids(anonymous).count(guid) == 1

    page.locator("section.revisions").get_by_role("link").first.click()
    expect(page.locator(".diff-text ins").first).to_have_text("(cập nhật)")
    screenshot(page, "revision-diff")

    page.goto("/console/")
    screenshot(page, "dashboard")
    page.goto(f"/console/articles?q=dang%20cong%20san%20{unique}")
    expect(page.locator("table.list")).to_contain_text(title)
    screenshot(page, "articles")

    page.goto(f"/console/articles/{article_id}")
    page.get_by_role("link", name="Gỡ bài…").click()
    expect(page.get_by_role("heading")).to_contain_text("Gỡ bài")
    screenshot(page, "withdraw-confirm")
    page.get_by_role("button", name="Gỡ bài").click()
    expect(page.get_by_role("status")).to_contain_text("đã được gỡ")
    wait_until(lambda: guid not in guids(anonymous), 10, "the article to leave the feed")


def guids(client: httpx.Client) -> list[str]:
    return [e.id for e in assert_valid_atom(client.get("/feeds/atom.xml").content).entries]


def test_bad_input_shows_the_error_by_the_field_and_stores_nothing(admin_user: str, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, admin_user, PASSWORD)
    before = article_count(page)
    page.goto("/console/articles/new")
    page.get_by_label("Tác giả").fill("Ban Tuyên giáo")
    focus_editor(page)
    page.keyboard.type("Có nội dung nhưng không có tiêu đề")
    # Trix copies what was typed into its hidden input asynchronously; on a loaded machine a
    # field filled before that settles can lose its value, so wait for both before sending.
    expect(page.locator("#body_html")).to_have_value("<div>Có nội dung nhưng không có tiêu đề</div>")
    page.get_by_label("Thời điểm đăng").fill("01/01/2020 07:00")
    expect(page.get_by_label("Thời điểm đăng")).to_have_value("01/01/2020 07:00")
    page.get_by_role("button", name="Hẹn giờ đăng").click()
    expect(page.locator("#title-error")).to_have_text("Không được để trống.")
    expect(page.locator("#publish_at-error")).to_contain_text("đã qua")
    expect(page.get_by_label("Tác giả")).to_have_value("Ban Tuyên giáo")
    expect(page.locator("#body_html")).to_have_value("<div>Có nội dung nhưng không có tiêu đề</div>")
    screenshot(page, "editor-errors")
    assert article_count(page) == before


def test_a_post_without_the_csrf_token_is_refused(stack: Stack, admin_user: str, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, admin_user, PASSWORD)
    before = article_count(page)
    # The browser's own cookies and Origin, but no token: what a forged cross-site form sends.
    response = page.request.post(
        "/console/articles/new",
        form={"title": "Giả mạo", "body_html": "<p>x</p>", "action": "publish"},
        headers={"Origin": stack.base_url},
    )
    assert response.status == 403
    assert "không có gì được thay đổi" in response.text()
    assert article_count(page) == before


def test_five_wrong_passwords_then_signing_in_is_refused_for_a_while(
    stack: Stack, admin_user: str, context: BrowserContext, redis_url: str
) -> None:
    created = run_cli(stack, "users", "create", "--username", "bientap2", "--role", "editor", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    page = context.new_page()
    try:
        for _ in range(5):
            sign_in(page, "bientap2", "không phải mật khẩu")
            expect(page.locator(".error-summary")).to_contain_text("không đúng")
        sign_in(page, "bientap2", PASSWORD)
        expect(page.locator(".error-summary")).to_contain_text("quá nhiều lần")
        expect(page.locator(".error-summary")).to_contain_text("phút")
        screenshot(page, "login-throttled")
        assert "/console/login" in page.url
    finally:
        # Every test signs in from 127.0.0.1: end the address lock for the tests after this one.
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter("bantin:login-failures:*"):
            client.delete(key)


def test_a_writer_submits_an_editor_returns_it_then_publishes_the_resubmission(
    stack: Stack, admin_user: str, browser: Browser, anonymous: httpx.Client, unique: str
) -> None:
    make_staff(stack, ("phongvien", "writer"), ("bientap", "editor"))
    writer_ctx = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900})
    editor_ctx = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900})
    try:
        writer, editor = writer_ctx.new_page(), editor_ctx.new_page()
        sign_in(writer, "phongvien", PASSWORD)
        writer.goto("/console/articles/new")
        title = f"Hội nghị học tập Nghị quyết {unique}"
        writer.get_by_label("Tiêu đề").fill(title)
        focus_editor(writer)
        writer.keyboard.type("Bản thảo đầu tiên")
        expect(writer.get_by_role("button", name="Xuất bản ngay")).to_have_count(0)
        writer.get_by_role("button", name="Gửi duyệt").click()
        expect(writer.get_by_role("status")).to_contain_text("gửi cho ban biên tập duyệt")
        article_path = writer.url.removeprefix(stack.base_url)

        sign_in(editor, "bientap", PASSWORD)
        queue = editor.locator("section", has=editor.get_by_role("heading", name="Chờ duyệt"))
        queue.get_by_role("link", name=title).click()
        screenshot(editor, "review")
        editor.get_by_role("button", name="Trả lại cho người viết").click()
        expect(editor.locator("#comment-error")).to_be_visible()
        editor.get_by_label("Trả lại kèm nhận xét").fill("Ghi rõ thời gian và địa điểm hội nghị.")
        editor.get_by_role("button", name="Trả lại cho người viết").click()
        expect(editor.get_by_role("status")).to_contain_text("đã được trả lại")

        writer.goto(article_path)
        expect(writer.get_by_role("note")).to_contain_text("Ghi rõ thời gian và địa điểm hội nghị.")
        screenshot(writer, "editor-returned")
        focus_editor(writer)
        writer.keyboard.press("End")
        writer.keyboard.type(", sáng 3/2 tại Hội trường Thành ủy.")
        writer.get_by_role("button", name="Gửi duyệt").click()
        expect(writer.get_by_role("status")).to_contain_text("gửi cho ban biên tập duyệt")

        editor.goto(article_path)
        editor.get_by_role("button", name="Duyệt và xuất bản").click()
        expect(editor.get_by_role("status")).to_contain_text("đã được xuất bản")
        token = stack.create_token("publish")
        body = httpx.get(
            f"{stack.base_url}/api/v1{article_path.removeprefix('/console')}",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert body["status"] == "published" and body["updated_by"] == "user:bientap"
        entry = wait_until(lambda: atom_entry(anonymous, body["guid"]), 10, "the approved article in the feed")
        assert "tại Hội trường Thành ủy" in entry["content"]
    finally:
        writer_ctx.close()
        editor_ctx.close()


def test_the_editors_toolbar_speaks_the_consoles_language(admin_user: str, context: BrowserContext) -> None:
    """Trix's tooltips and link dialog come from the page's translations, set before it builds its toolbar."""
    page = context.new_page()
    sign_in(page, admin_user, PASSWORD)
    page.goto("/console/articles/new")
    focus_editor(page)
    toolbar = page.locator("trix-toolbar")
    expect(toolbar.locator('button[data-trix-attribute="bold"]')).to_have_attribute("title", "Đậm")
    expect(toolbar.locator('button[data-trix-action="attachFiles"]')).to_have_attribute("title", "Đính kèm tệp")
    expect(toolbar.locator('input[name="href"]')).to_have_attribute("placeholder", "Nhập địa chỉ URL…")
    # By keyboard: from the field before the editor, Tab reaches the toolbar (Trix leaves its
    # buttons out of the tab order; console.js puts them back).
    page.locator(".media-chooser summary").focus()
    page.keyboard.press("Tab")
    expect(toolbar.locator('button[data-trix-attribute="bold"]')).to_be_focused()
    page.goto("/console/articles/new?lang=en")
    focus_editor(page)
    expect(toolbar.locator('button[data-trix-attribute="bold"]')).to_have_attribute("title", "Bold")
    expect(toolbar.locator('input[name="href"]')).to_have_attribute("placeholder", "Enter a URL…")
    page.goto("/console/?lang=vi")  # the language is remembered in a cookie: leave the console Vietnamese
    # The first Tab on a console page reaches the skip link, as on the public pages.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Bỏ qua, đến nội dung")).to_be_focused()
