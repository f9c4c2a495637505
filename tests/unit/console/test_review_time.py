"""The review page's time field means what it shows (issue 20.1, decision 0026): the time an
article is meant for is the field's value; an empty field never means "now" while a time is
stored; "publish now" with a different time typed in is refused; and an editor who did not
submit it may correct it in place before approving what they read."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.console.templating import local_time
from service.db.engine import session_scope
from service.db.models import Article, ArticleRevision, OutboxEvent
from service.db.types import utcnow
from tests.unit.console.conftest import ORIGIN, hidden, login, make_user

ARTICLE = {"title": "Kỷ niệm ngày thành lập", "body_html": "<div>Nội dung</div>", "author": "PV"}


def post(client: TestClient, path: str, token: str, **fields: str) -> httpx.Response:
    response: httpx.Response = client.post(path, data={"csrf_token": token, **fields}, headers={"Origin": ORIGIN})
    return response


def stored() -> tuple[str, datetime | None, list[str]]:
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        return article.status, article.publish_at, list(session.scalars(select(OutboxEvent.type)))


@pytest.fixture
def meant_for(app_client: TestClient) -> tuple[str, datetime]:
    """A writer's submission meant for a morning two months ahead; the editor is signed in."""
    make_user("phongvien", "writer")
    make_user("bientap", "editor")
    writer = login(app_client, "phongvien")
    location = post(app_client, "/console/articles/new", writer, **ARTICLE, action="submit").headers["location"]
    when = (utcnow() + timedelta(days=60)).replace(second=0, microsecond=0)
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        article.publish_at = when  # as a calendar draft carries it
    login(app_client, "bientap")
    return location, when


def primary_button(page: str) -> str:
    """The label of the page's primary button (the one the form's main choice is)."""
    match = re.search(r'<button[^>]*class="primary"[^>]*>([^<]*)</button>', page)
    assert match, "no primary button"
    return match.group(1).strip()


def editor_token(client: TestClient, location: str) -> str:
    return hidden(client.get(location).text, "csrf_token")


def test_the_page_shows_the_time_and_an_approval_without_an_action_keeps_it(
    app_client: TestClient, meant_for: tuple[str, datetime]
) -> None:
    location, when = meant_for
    page = app_client.get(location).text
    assert f'value="{local_time(when)}"' in page
    assert primary_button(page) == f"Duyệt và hẹn giờ {local_time(when)}"
    # An empty field with a stored time: the stored time, never "now".
    assert post(app_client, f"{location}/approve", editor_token(app_client, location), publish_at="").status_code == 303
    assert stored() == ("scheduled", when, [])


def test_approve_and_schedule_with_an_empty_field_asks_for_a_time(
    app_client: TestClient, meant_for: tuple[str, datetime]
) -> None:
    location, when = meant_for
    token = editor_token(app_client, location)
    refused = post(app_client, f"{location}/approve", token, publish_at=" ", action="schedule")
    assert refused.status_code == 422 and "Nhập ngày giờ đăng" in refused.text
    assert stored() == ("pending_review", when, [])


def test_publish_now_with_another_time_typed_is_refused_and_with_the_shown_one_publishes(
    app_client: TestClient, meant_for: tuple[str, datetime]
) -> None:
    location, when = meant_for
    token = editor_token(app_client, location)
    other = local_time(when + timedelta(days=1))
    refused = post(app_client, f"{location}/approve", token, publish_at=other, action="publish")
    assert refused.status_code == 422 and f"Bạn đã nhập thời điểm đăng {other} nhưng chọn đăng ngay" in refused.text
    assert f'value="{other}"' in refused.text  # what was typed stays
    assert stored() == ("pending_review", when, [])
    published = post(app_client, f"{location}/approve", token, publish_at=local_time(when), action="publish")
    assert published.status_code == 303
    assert stored() == ("published", None, ["article.published"])


def test_a_time_that_has_passed_is_shown_with_publish_now_first_and_not_taken_for_now(
    app_client: TestClient, meant_for: tuple[str, datetime]
) -> None:
    location, _ = meant_for
    passed = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
    with session_scope() as session:
        session.scalars(select(Article)).one().publish_at = passed
    page = app_client.get(location).text
    assert "Thời điểm dự kiến này đã qua" in page
    assert primary_button(page) == "Duyệt và xuất bản ngay"
    refused = post(app_client, f"{location}/approve", editor_token(app_client, location), publish_at="")
    assert refused.status_code == 409 and f"Thời điểm đăng dự kiến {local_time(passed)} đã qua" in refused.text
    assert stored() == ("pending_review", passed, [])


def test_an_editor_corrects_a_submission_in_place_and_approves_only_what_they_read(
    app_client: TestClient, meant_for: tuple[str, datetime]
) -> None:
    location, when = meant_for
    review_page = app_client.get(location).text
    assert f'href="{location}/edit"' in review_page
    read = hidden(review_page, "loaded_revision_id")

    make_user("bientap2", "editor")
    other = login(app_client, "bientap2")
    editor_page = app_client.get(f"{location}/edit").text
    assert "Lưu chỉnh sửa (bài vẫn chờ duyệt)" in editor_page and "Xuất bản ngay" not in editor_page
    corrected = {**ARTICLE, "title": "Kỷ niệm ngày thành lập (đã sửa lỗi)", "publish_at": local_time(when)}
    loaded = hidden(editor_page, "loaded_revision_id")
    assert post(app_client, location, other, **corrected, action="save", loaded_revision_id=loaded).status_code == 303
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert (article.status, article.title, article.publish_at) == ("pending_review", corrected["title"], when)
        newest = session.scalars(select(ArticleRevision).order_by(ArticleRevision.id.desc())).first()
        assert newest is not None and newest.author == "user:bientap2"

    # The first editor's page was read before the correction: approving it is refused.
    login(app_client, "bientap")
    token = editor_token(app_client, location)
    stale = post(app_client, f"{location}/approve", token, publish_at=local_time(when), loaded_revision_id=read)
    assert stale.status_code == 409 and "Bài vừa được sửa sau khi bạn mở trang" in stale.text
    assert stored()[0] == "pending_review"


def test_the_writer_cannot_correct_their_submission(app_client: TestClient, meant_for: tuple[str, datetime]) -> None:
    location, _ = meant_for
    login(app_client, "phongvien")
    assert app_client.get(f"{location}/edit").status_code == 403
    assert 'href="/console/articles/' not in app_client.get(location).text.split("Đang chờ duyệt", 1)[1]
