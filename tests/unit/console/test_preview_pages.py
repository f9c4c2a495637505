"""Preview before publishing: page, feed entry and announcements, built by their own code; nothing stored."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db.engine import session_scope
from service.db.models import Article, ArticleRevision, Category, OutboxEvent
from tests.unit.console.conftest import ORIGIN

GOOD = {
    "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam",
    "summary": "Lễ kỷ niệm tại Hà Nội",
    "categories": "Xây dựng Đảng",
    "author": "Ban Tuyên giáo",
    "body_html": "<div>Nội dung <strong>đậm</strong> và <a href='#muc-2'>mục 2</a></div>",
}


def counts() -> tuple[int, ...]:
    with session_scope() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Article, ArticleRevision, Category, OutboxEvent)
        )


def srcdoc(page: str, title: str) -> str:
    match = re.search(rf'title="{re.escape(title)}"[^>]*srcdoc="([^"]*)"', page, re.S)
    assert match, f"no frame {title!r}"
    return html.unescape(match.group(1))


def test_unsaved_new_article_shows_page_feed_entry_telegram_and_mail_and_stores_nothing(
    editor: tuple[TestClient, str],
) -> None:
    client, token = editor
    before = counts()
    response = client.post(
        "/console/articles/new/preview",
        data={"csrf_token": token, **GOOD, "action": "publish"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 200, response.text
    page = response.text
    # The public page, rendered by the public template, in a sandboxed frame.
    public = srcdoc(page, "Trang bài viết công khai")
    assert '<h1 class="story__title">Kỷ niệm 97 năm' in public and "<strong>đậm</strong>" in public
    assert '<html lang="vi">' in public and "Đăng ký nhận tin" in public
    # The feed entry from the feeds' own code: title, link, GUID, summary, content.
    assert 'class="entry-title">Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam<' in page
    assert "/articles/0/ky-niem-97-nam-ngay-thanh-lap-dang-cong-san-viet-nam" in page
    assert "urn:uuid:" in page and 'class="entry-summary">Lễ kỷ niệm tại Hà Nội<' in page
    content = srcdoc(page, "Nội dung mục trong nguồn tin")
    # In a feed, in-page links are made absolute against the article's address.
    assert (
        "<strong>đậm</strong>" in content and "/ky-niem-97-nam-ngay-thanh-lap-dang-cong-san-viet-nam#muc-2" in content
    )
    # Telegram: bold lead + title, then the summary and the link, as telegram_html builds it.
    assert "<b>Bài mới: Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam</b>" in page
    # E-mail: subject and plain text from build_email.
    assert 'class="mail-subject">Bài mới: Kỷ niệm 97 năm' in page
    assert "Hủy đăng ký:" in page and "Lễ kỷ niệm tại Hà Nội" in srcdoc(page, "Bản HTML của thư")
    assert counts() == before


def test_a_saved_draft_is_previewed_with_its_guid_and_stays_a_draft(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    location = client.post(
        "/console/articles/new", data={"csrf_token": token, **GOOD, "action": "draft"}, headers={"Origin": ORIGIN}
    ).headers["location"]
    article_id = int(location.rsplit("/", 1)[1])
    with session_scope() as session:
        guid = session.get(Article, article_id).guid  # type: ignore[union-attr]
    before = counts()
    page = client.get(f"/console/articles/{article_id}/preview").text
    assert guid in page and f"/articles/{article_id}/ky-niem" in page and "Bản đã lưu." in page
    assert "<b>Bài mới: Kỷ niệm 97 năm" in page
    with session_scope() as session:
        article = session.get(Article, article_id)
        assert article is not None and article.status == "draft" and article.published_at is None
    assert counts() == before
    # The editor links to it.
    assert f'href="/console/articles/{article_id}/preview"' in client.get(location).text


def test_unsaved_changes_to_a_published_article_preview_as_an_update(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    location = client.post(
        "/console/articles/new", data={"csrf_token": token, **GOOD, "action": "publish"}, headers={"Origin": ORIGIN}
    ).headers["location"]
    before = counts()
    changed = {**GOOD, "title": "Tiêu đề mới <script>alert(1)</script>"}
    page = client.post(f"{location}/preview", data={"csrf_token": token, **changed}, headers={"Origin": ORIGIN}).text
    assert "<b>Cập nhật: Tiêu đề mới &lt;script&gt;alert(1)&lt;/script&gt;</b>" in page
    assert "<script>alert" not in page
    with session_scope() as session:
        assert session.scalars(select(Article.title)).one() == GOOD["title"]
    assert counts() == before


def test_a_form_that_would_not_save_shows_its_errors_and_no_preview(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    response = client.post(
        "/console/articles/new/preview",
        data={"csrf_token": token, **GOOD, "title": " "},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 422
    assert "Tiêu đề: Không được để trống." in response.text and "xem-trang" not in response.text


def test_preview_needs_the_csrf_token_and_a_known_article(editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    refused = client.post("/console/articles/new/preview", data=GOOD, headers={"Origin": ORIGIN})
    assert refused.status_code == 403
    assert client.get("/console/articles/999/preview").status_code == 404
    assert client.get("/console/articles/abc/preview").status_code == 404  # a non-number id names no page


def test_preview_is_in_english_when_the_console_is(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    page = client.post(
        "/console/articles/new/preview?lang=en", data={"csrf_token": token, **GOOD}, headers={"Origin": ORIGIN}
    ).text
    assert "Public article page" in page and "Telegram message" in page
    # What readers get stays Vietnamese: the page and the announcement to Vietnamese subscribers.
    assert "<b>Bài mới: Kỷ niệm" in page
