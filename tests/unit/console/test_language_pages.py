"""Vietnamese by default, English on request: the console (remembered), public and reader pages, Python messages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.unit.console.conftest import ORIGIN, PASSWORD, hidden

GOOD = {
    "title": "Kỷ niệm 97 năm Ngày thành lập Đảng",
    "summary": "Tóm tắt",
    "categories": "Xây dựng Đảng",
    "body_html": "<div>Nội dung <strong>đậm</strong></div>",
}


def visible(page: str) -> str:
    """The page's text without tags, scripts and the srcdoc of preview frames."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_the_console_switches_to_english_and_remembers_it(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    vietnamese = client.get("/console/")
    assert '<html lang="vi">' in vietnamese.text and "Tổng quan" in vietnamese.text
    assert 'href="/console/?lang=en" hreflang="en" lang="en">English</a>' in vietnamese.text

    english = client.get("/console/?lang=en")
    assert "bantin_lang=en" in english.headers["set-cookie"] and "Path=/console" in english.headers["set-cookie"]
    assert '<html lang="en">' in english.text and "Dashboard" in english.text and "Latest articles" in english.text
    assert "Editor" in english.text  # the role label
    # Remembered: no ?lang on the next pages.
    editor_page = client.get("/console/articles/new").text
    assert "Write" in editor_page and "Save draft" in editor_page and "Publish now" in editor_page
    assert "Lưu nháp" not in editor_page and 'hreflang="vi" lang="vi">Tiếng Việt</a>' in editor_page
    # Python-side messages: the flash after saving, a status label, a field error.
    saved = client.post(
        "/console/articles/new", data={"csrf_token": token, **GOOD, "action": "draft"}, headers={"Origin": ORIGIN}
    )
    page = client.get(saved.headers["location"]).text
    assert f"“{GOOD['title']}” has been saved as a draft." in page and ">Draft</span>" in page
    bad = client.post(
        "/console/articles/new", data={"csrf_token": token, **GOOD, "title": " "}, headers={"Origin": ORIGIN}
    )
    assert bad.status_code == 422 and "Must not be empty." in bad.text and "Không được để trống" not in bad.text
    schedule = {"csrf_token": token, **GOOD, "action": "schedule", "publish_at": "31/02/2027 07:00"}
    bad_time = client.post("/console/articles/new", data=schedule, headers={"Origin": ORIGIN})
    assert "The day 31/02/2027 does not exist." in bad_time.text
    # An error page raised outside any handler's own code.
    assert "There is no such page or article." in client.get("/console/articles/987654").text
    # Dates stay dd/mm/yyyy in English.
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", page)

    back = client.get("/console/?lang=vi")
    assert "bantin_lang=vi" in back.headers["set-cookie"] and "Tổng quan" in back.text
    assert "Tổng quan" in client.get("/console/").text
    # A value we do not have changes nothing.
    assert "Tổng quan" in client.get("/console/?lang=fr").text


def test_the_sign_in_page_and_its_errors_are_in_english_on_request(app_client: TestClient) -> None:
    page = app_client.get("/console/login?lang=en")
    assert "Sign in" in page.text and "Password" in page.text
    wrong = app_client.post(
        "/console/login",
        data={"username": "ai", "password": PASSWORD, "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    refused = app_client.post("/console/login", data={"username": "ai", "password": "x"}, headers={"Origin": ORIGIN})
    assert refused.status_code == 403 and "The form has expired or was not sent from this console" in refused.text


def test_public_pages_have_their_header_and_footer_in_english_and_an_etag_per_language(
    editor: tuple[TestClient, str],
) -> None:
    client, token = editor
    published = client.post(
        "/console/articles/new", data={"csrf_token": token, **GOOD, "action": "publish"}, headers={"Origin": ORIGIN}
    )
    assert published.status_code == 303
    home_vi, home_en = client.get("/"), client.get("/?lang=en")
    assert home_vi.headers["etag"] != home_en.headers["etag"]
    assert '<html lang="vi">' in home_vi.text and "Đăng ký nhận tin" in home_vi.text
    english = visible(home_en.text)
    assert '<html lang="en">' in home_en.text
    for words in ("Skip to content", "Latest", "Subscribe", "Follow via"):
        assert words in english, words
    for words in ("Bỏ qua", "Mới nhất", "Đăng ký nhận tin", "Theo dõi qua"):
        assert words not in english, words
    # Links keep the reader in English; the switch leads back.
    assert 'href="/subscribe?lang=en"' in home_en.text and 'href="/?lang=vi"' in home_en.text
    article_link = re.search(r'href="(/articles/\d+/[^"?]+)\?lang=en"', home_en.text)
    assert article_link, "cards link to the English page"
    article = client.get(f"{article_link.group(1)}?lang=en")
    assert "Follow" in visible(article.text) and "Categories" in visible(article.text)
    assert GOOD["title"] in article.text  # the article itself is never translated
    # Conditional GET per language.
    assert client.get("/?lang=en", headers={"If-None-Match": home_en.headers["etag"]}).status_code == 304
    assert client.get("/", headers={"If-None-Match": home_en.headers["etag"]}).status_code == 200
    missing = client.get("/articles/987654/x?lang=en")
    assert missing.status_code == 404 and "Page not found" in missing.text


def test_reader_pages_come_from_the_same_catalogue(app_client: TestClient) -> None:
    page = app_client.get("/subscribe?lang=en")
    english = visible(page.text)
    for words in ("Subscribe by e-mail", "E-mail address", "All categories", "Skip to content", "Follow via"):
        assert words in english, words
    assert "Địa chỉ thư điện tử" not in english and "Bỏ qua" not in english
    form = {"csrf_token": hidden(page.text, "csrf_token"), "email": "không-phải-thư", "lang": "en", "consent": "yes"}
    bad = app_client.post("/subscribe", data=form)
    assert bad.status_code == 422 and "This is not a valid e-mail address." in bad.text
    sent = app_client.get("/subscribe/sent?lang=en")
    assert "Check your inbox" in sent.text and '<html lang="en">' in sent.text


def test_the_switch_on_a_page_answering_a_post_leads_to_the_page_the_form_was_on(
    editor: tuple[TestClient, str],
) -> None:
    client, token = editor
    form = {"csrf_token": token, **GOOD}
    preview = client.post(
        "/console/articles/new/preview",
        data=form,
        headers={"Origin": ORIGIN, "Referer": f"{ORIGIN}/console/articles/new?lang=vi"},
    )
    assert 'href="/console/articles/new?lang=en"' in preview.text
    without = client.post("/console/articles/new/preview", data=form, headers={"Origin": ORIGIN})
    assert 'href="/console/?lang=en"' in without.text
    forged = client.post(
        "/console/articles/new/preview", data=form, headers={"Origin": ORIGIN, "Referer": "https://evil.example//x"}
    )
    assert 'href="//x' not in forged.text
