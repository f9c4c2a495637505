"""The article pages: saves go through the domain functions; bad input stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.console.templating import local_time
from service.db.engine import session_scope
from service.db.models import Article, OutboxEvent
from service.db.types import utcnow
from tests.unit.api.conftest import make_token
from tests.unit.console.conftest import ORIGIN, hidden, login, make_user

GOOD = {
    "title": "Kỷ niệm 97 năm Ngày thành lập Đảng",
    "summary": "Tóm tắt",
    "categories": "Thời sự, Xây dựng Đảng",
    "author": "Ban Tuyên giáo",
    "body_html": "<div>Nội dung <strong>đậm</strong></div>",
}


def count(model: type) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def post(client: TestClient, path: str, token: str, **fields: str) -> object:
    return client.post(path, data={"csrf_token": token, **fields}, headers={"Origin": ORIGIN})


def test_publish_now_creates_the_article_with_its_outbox_event(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    response = post(client, "/console/articles/new", token, **GOOD, action="publish")
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = client.get(response.headers["location"])  # type: ignore[attr-defined]
    assert "đã được xuất bản" in page.text and "Đã xuất bản" in page.text
    assert "bởi bientap" in page.text
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert article.status == "published" and article.created_by == "user:bientap"
        assert article.body_html == "<div>Nội dung <strong>đậm</strong></div>"
        assert [c.name for c in article.categories] == ["Thời sự", "Xây dựng Đảng"]
    assert count(OutboxEvent) == 1


def test_the_api_shows_who_created_and_changed_an_article(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    location = post(client, "/console/articles/new", token, **GOOD, action="draft").headers["location"]  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {make_token('publish')}"}
    article_id = location.rsplit("/", 1)[1]
    client.patch(f"/api/v1/articles/{article_id}", json={"summary": "Mới"}, headers=headers)
    body = client.get(f"/api/v1/articles/{article_id}", headers=headers).json()
    assert body["created_by"] == "user:bientap"
    assert body["updated_by"].startswith("token:")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "   "}, "title", "Không được để trống."),
        ({"title": "Đ" * 301}, "title", "Dài 301 ký tự; tối đa 300 ký tự."),
        ({"body_html": ""}, "body_html", "Không được để trống."),
        ({"source_url": "ftp://x"}, "source_url", "http://"),
        ({"action": "schedule", "publish_at": "31/02/2027 07:00"}, "publish_at", "Ngày 31/02/2027 không có."),
        ({"action": "schedule", "publish_at": ""}, "publish_at", "Nhập ngày giờ"),
    ],
)
def test_bad_input_is_shown_by_its_field_keeps_the_typing_and_stores_nothing(
    editor: tuple[TestClient, str], fields: dict[str, str], field: str, message: str
) -> None:
    client, token = editor
    data = {**GOOD, "action": "publish", **fields}
    response = post(client, "/console/articles/new", token, **data)
    assert response.status_code == 422  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert f'<p class="field-error" id="{field}-error">' in html and message in html
    assert f'aria-describedby="{field}-error"' in html or field == "body_html"
    assert 'value="Ban Tuyên giáo"' in html  # what was typed stays
    assert count(Article) == 0 and count(OutboxEvent) == 0


def test_a_schedule_in_the_past_is_refused(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    past = local_time(utcnow() - timedelta(hours=1))
    response = post(client, "/console/articles/new", token, **GOOD, action="schedule", publish_at=past)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "đã qua" in response.text  # type: ignore[attr-defined]
    assert count(Article) == 0


def test_a_schedule_in_the_future_is_stored_in_utc_and_shown_in_local_time(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    response = post(client, "/console/articles/new", token, **GOOD, action="schedule", publish_at="03/02/2099 07:00")
    assert response.status_code == 303  # type: ignore[attr-defined]
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert article.status == "scheduled"
        assert article.publish_at is not None and article.publish_at.isoformat() == "2099-02-03T00:00:00+00:00"
    assert "03/02/2099 07:00" in client.get("/console/").text
    assert count(OutboxEvent) == 0


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"Origin": ORIGIN}, None),
        ({"Origin": ORIGIN}, "wrong"),
        ({"Origin": "https://evil.example"}, "right"),
        ({}, "right"),  # neither Origin nor Referer
    ],
)
def test_a_post_without_our_origin_and_token_gets_403_and_changes_nothing(
    editor: tuple[TestClient, str], headers: dict[str, str], token: str | None
) -> None:
    client, real = editor
    data = {**GOOD, "action": "publish"}
    if token is not None:
        data["csrf_token"] = real if token == "right" else token
    response = client.post("/console/articles/new", data=data, headers=headers)
    assert response.status_code == 403
    assert "không có gì được thay đổi" in response.text
    assert count(Article) == 0


def test_a_referer_from_this_site_stands_in_for_a_missing_origin(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    response = client.post(
        "/console/articles/new",
        data={**GOOD, "action": "draft", "csrf_token": token},
        headers={"Referer": f"{ORIGIN}/console/articles/new"},
    )
    assert response.status_code == 303


def test_edit_keeps_the_guid_and_withdraw_asks_first(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    location = post(client, "/console/articles/new", token, **GOOD, action="publish").headers["location"]  # type: ignore[attr-defined]
    with session_scope() as session:
        guid = session.scalars(select(Article.guid)).one()
    loaded = hidden(client.get(location).text, "loaded_revision_id")
    edited = post(
        client, location, token, **{**GOOD, "title": "Đã sửa tiêu đề"}, action="publish", loaded_revision_id=loaded
    )
    assert edited.status_code == 303  # type: ignore[attr-defined]
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert (article.title, article.guid, article.status) == ("Đã sửa tiêu đề", guid, "published")
    confirm = client.get(f"{location}/withdraw")
    assert "Gỡ bài “Đã sửa tiêu đề”?" in confirm.text
    assert post(client, f"{location}/withdraw", token).status_code == 303  # type: ignore[attr-defined]
    with session_scope() as session:
        assert session.scalars(select(Article.status)).one() == "withdrawn"
    assert _event_types() == ["article.published", "article.updated", "article.withdrawn"]


def _event_types() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)))


def test_a_writer_saves_drafts_but_cannot_publish_or_withdraw(app_client: TestClient) -> None:
    make_user("phongvien", "writer")
    token = login(app_client, "phongvien")
    refused = post(app_client, "/console/articles/new", token, **GOOD, action="publish")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert count(Article) == 0
    saved = post(app_client, "/console/articles/new", token, **GOOD, action="draft")
    assert saved.status_code == 303  # type: ignore[attr-defined]
    location = saved.headers["location"]  # type: ignore[attr-defined]
    assert "Xuất bản ngay" not in app_client.get(location).text
    assert post(app_client, f"{location}/withdraw", token).status_code == 403  # type: ignore[attr-defined]


def test_titles_and_bodies_with_markup_are_inert(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    evil = {
        **GOOD,
        "title": "<script>alert(1)</script>Tin",
        "body_html": '<p onclick="x()">a</p><a href="javascript:alert(1)">b</a><script>alert(2)</script>',
    }
    location = post(client, "/console/articles/new", token, **evil, action="draft").headers["location"]  # type: ignore[attr-defined]
    for page in (client.get(location).text, client.get("/console/articles").text, client.get("/console/").text):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;Tin" in page
    with session_scope() as session:
        body = session.scalars(select(Article.body_html)).one()
    assert "onclick" not in body and "javascript:" not in body and "<script" not in body


def test_list_searches_without_diacritics_and_filters(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    post(client, "/console/articles/new", token, **GOOD, action="publish")
    post(
        client,
        "/console/articles/new",
        token,
        **{**GOOD, "title": "Chúc mừng năm mới", "categories": "Văn hóa"},
        action="draft",
    )

    def listed(**params: str) -> str:
        page = client.get("/console/articles", params=params).text
        return page.split('<table class="list">', 1)[1] if '<table class="list">' in page else ""

    found = listed(q="dang")
    assert "Kỷ niệm 97 năm" in found and "Chúc mừng" not in found
    both = listed(q="nam")
    assert "Kỷ niệm 97 năm" in both and "Chúc mừng năm mới" in both
    drafts = listed(status="draft")
    assert "Chúc mừng năm mới" in drafts and "Kỷ niệm 97 năm" not in drafts
    culture = listed(category="van-hoa")
    assert "Chúc mừng năm mới" in culture and "Kỷ niệm 97 năm" not in culture
    assert listed(q="khong co bai nao") == ""


def test_dashboard_lists_anniversaries_of_the_next_60_days(editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    from config.settings import get_settings
    from service.calendar.schemas import KeyDateIn
    from service.calendar.service import create_key_date
    from service.console.templating import local_time as fmt

    today = utcnow()
    soon = today + timedelta(days=10)
    with session_scope() as session:
        create_key_date(
            session,
            KeyDateIn.model_validate(
                {
                    "id": "test-day",
                    "name": "Ngày thử nghiệm",
                    "calendar": "solar",
                    "day": soon.day,
                    "month": soon.month,
                    "origin_year": soon.year - 50,
                }
            ),
            today,
            get_settings(),
        )
    page = client.get("/console/").text
    assert "Ngày thử nghiệm" in page and "50 năm" in page and "năm tròn" in page and "đại lễ" in page
    assert f"{soon.day:02d}/{soon.month:02d}/{soon.year}" in page or fmt(soon)[:10] in page


def test_static_files_are_served_and_paths_cannot_escape(editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    trix = client.get("/console/static/vendor/trix/trix.umd.min.js")
    assert trix.status_code == 200 and "max-age" in trix.headers["cache-control"]
    assert client.get("/console/static/vendor/trix/LICENSE").status_code == 200
    assert client.get("/console/static/../templates/base.html").status_code == 404
    assert client.get("/console/static/%2e%2e/templates/base.html").status_code == 404


def test_a_draft_keeps_the_time_it_shows_and_refuses_a_typed_time_that_has_passed(
    editor: tuple[TestClient, str],
) -> None:
    """The field is the article's time (decision 0026): left as shown it stays (even once
    passed), emptied it is cleared, and a time typed in the past is refused, not dropped."""
    client, token = editor
    location = post(client, "/console/articles/new", token, **GOOD, action="draft").headers["location"]  # type: ignore[attr-defined]
    passed = utcnow().replace(second=0, microsecond=0) - timedelta(days=1)
    with session_scope() as session:
        session.scalars(select(Article)).one().publish_at = passed

    def save(publish_at: str) -> object:
        loaded = hidden(client.get(location).text, "loaded_revision_id")
        return post(client, location, token, **GOOD, action="draft", publish_at=publish_at, loaded_revision_id=loaded)

    def kept() -> object:
        with session_scope() as session:
            return session.scalars(select(Article.publish_at)).one()

    assert save(local_time(passed)).status_code == 303 and kept() == passed  # type: ignore[attr-defined]
    typed = save(local_time(passed - timedelta(days=1)))
    assert typed.status_code == 422 and "đã qua" in typed.text and kept() == passed  # type: ignore[attr-defined]
    assert save("").status_code == 303 and kept() is None  # type: ignore[attr-defined]
