"""Review in the console: a writer submits, an editor returns with a comment, then approves."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db.engine import session_scope
from service.db.models import Article, OutboxEvent
from tests.unit.console.conftest import ORIGIN, hidden, login, make_user

ARTICLE = {"title": "Tin phóng viên gửi", "body_html": "<div>Nội dung <strong>đậm</strong></div>", "author": "PV"}


def post(client: TestClient, path: str, token: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": token, **fields}, headers={"Origin": ORIGIN})


def status_of(article_id: str) -> str:
    with session_scope() as session:
        article = session.get(Article, int(article_id))
        assert article is not None
        return article.status


def test_writer_submits_editor_returns_writer_resubmits_editor_publishes(app_client: TestClient) -> None:
    make_user("phongvien", "writer")
    make_user("bientap", "editor")
    writer = login(app_client, "phongvien")
    location = post(app_client, "/console/articles/new", writer, **ARTICLE, action="submit").headers["location"]
    article_id = location.rsplit("/", 1)[1]
    assert status_of(article_id) == "pending_review"
    page = app_client.get(location).text
    assert "Đang chờ duyệt" in page and "Duyệt và xuất bản" not in page
    assert "<strong>đậm</strong>" in page  # the sanitised body, rendered

    editor = login(app_client, "bientap")
    assert "Tin phóng viên gửi" in app_client.get("/console/").text.split("Chờ duyệt</h2>", 1)[1]
    empty = post(app_client, f"{location}/return", editor, comment="  ")
    assert empty.status_code == 422 and 'id="comment-error"' in empty.text
    assert status_of(article_id) == "pending_review"
    assert post(app_client, f"{location}/return", editor, comment="Bổ sung nguồn tin.").status_code == 303

    writer = login(app_client, "phongvien")
    page = app_client.get(location).text
    assert "Ban biên tập trả lại bài" in page and "Bổ sung nguồn tin." in page
    loaded = hidden(page, "loaded_revision_id")
    resubmitted = post(
        app_client, location, writer, **{**ARTICLE, "source_name": "TTXVN"}, action="submit", loaded_revision_id=loaded
    )
    assert resubmitted.status_code == 303 and status_of(article_id) == "pending_review"
    assert post(app_client, f"{location}/approve", writer).status_code == 403

    editor = login(app_client, "bientap")
    past = post(app_client, f"{location}/approve", editor, publish_at="01/01/2020 07:00")
    assert past.status_code == 422 and "đã qua" in past.text
    assert post(app_client, f"{location}/approve", editor, publish_at="").status_code == 303
    assert status_of(article_id) == "published"
    with session_scope() as session:
        assert session.scalars(select(OutboxEvent.type)).all() == ["article.published"]
        article = session.get(Article, int(article_id))
        assert article is not None and article.source_name == "TTXVN"


def test_an_editor_cannot_approve_what_they_submitted(
    app_client: TestClient, settings_override: pytest.MonkeyPatch
) -> None:
    make_user("bientap", "editor")
    editor = login(app_client, "bientap")
    location = post(app_client, "/console/articles/new", editor, **ARTICLE, action="submit").headers["location"]
    page = app_client.get(location).text
    assert "một biên tập viên khác cần duyệt" in page
    refused = post(app_client, f"{location}/approve", editor)
    assert refused.status_code == 409 and "không thể tự duyệt" in refused.text
    assert status_of(location.rsplit("/", 1)[1]) == "pending_review"


def test_without_review_writers_publish_themselves(
    app_client: TestClient, settings_override: pytest.MonkeyPatch
) -> None:
    settings_override.setenv("BANTIN_REVIEW_REQUIRED", "false")
    make_user("phongvien", "writer")
    writer = login(app_client, "phongvien")
    assert "Gửi duyệt" not in app_client.get("/console/articles/new").text
    response = post(app_client, "/console/articles/new", writer, **ARTICLE, action="publish")
    assert response.status_code == 303
    assert status_of(response.headers["location"].rsplit("/", 1)[1]) == "published"


def test_a_writer_changes_only_their_own_articles(app_client: TestClient) -> None:
    make_user("phongvien", "writer")
    make_user("phongvien2", "writer")
    first = login(app_client, "phongvien")
    location = post(app_client, "/console/articles/new", first, **ARTICLE, action="draft").headers["location"]
    second = login(app_client, "phongvien2")
    page = app_client.get(location).text
    assert "bạn chỉ xem được" in page and "Lưu nháp" not in page
    loaded = hidden(page, "loaded_revision_id")
    refused = post(
        app_client,
        location,
        second,
        **{**ARTICLE, "title": "Sửa bài người khác"},
        action="draft",
        loaded_revision_id=loaded,
    )
    assert refused.status_code == 403
    with session_scope() as session:
        assert session.scalars(select(Article.title)).one() == ARTICLE["title"]


def test_a_writers_start_page_lists_their_returned_articles_with_the_comment_and_no_delivery_health(
    app_client: TestClient,
) -> None:
    make_user("phongvien", "writer")
    make_user("phongvienkhac", "writer")
    make_user("bientap", "editor")
    writer = login(app_client, "phongvien")
    location = post(app_client, "/console/articles/new", writer, **ARTICLE, action="submit").headers["location"]
    other = login(app_client, "phongvienkhac")
    post(app_client, "/console/articles/new", other, **{**ARTICLE, "title": "Bài của người khác"}, action="submit")
    editor = login(app_client, "bientap")
    assert post(app_client, f"{location}/return", editor, comment="Thiếu nguồn\nvà ảnh.").status_code == 303
    assert "Gửi tin 24 giờ qua" in app_client.get("/console/").text  # an editor acts on delivery health

    login(app_client, "phongvien")
    page = app_client.get("/console/").text
    assert "Gửi tin 24 giờ qua" not in page and "Chờ duyệt</h2>" not in page
    returned = page.split("Bài bị trả lại</h2>", 1)[1].split("</section>", 1)[0]
    assert f'href="{location}"' in returned and "Thiếu nguồn\nvà ảnh." in returned and "bientap" in returned
    mine = page.split("Bài của bạn</h2>", 1)[1].split("</section>", 1)[0]
    assert "Tin phóng viên gửi" in mine and "Bài của người khác" not in mine

    writer = login(app_client, "phongvien")
    loaded = hidden(app_client.get(location).text, "loaded_revision_id")
    post(app_client, location, writer, **ARTICLE, action="submit", loaded_revision_id=loaded)
    page = app_client.get("/console/").text
    assert "Không có bài nào bị trả lại." in page  # resubmitted: no longer waiting on the writer


def test_the_review_page_shows_the_cover_as_an_image_and_links_to_the_preview(app_client: TestClient) -> None:
    make_user("phongvien", "writer")
    make_user("bientap", "editor")
    writer = login(app_client, "phongvien")
    cover = "https://anh.example.vn/rat-dai/duong-dan/anh-bia-2027.jpg"
    new = post(app_client, "/console/articles/new", writer, **ARTICLE, image_url=cover, action="submit")
    location = new.headers["location"]
    login(app_client, "bientap")
    page = app_client.get(location).text
    assert f'<img src="{cover}" alt="Ảnh bìa"' in page
    assert f">{cover}<" not in page and f" {cover}</p>" not in page  # no raw address as text
    assert f'href="{location}/preview">Xem trước</a>' in page
    assert f'href="{location}/edit">Sửa lỗi trực tiếp</a>' in page
