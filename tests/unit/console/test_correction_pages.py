"""The console's correction form and the withdrawal reason (decision 0043): Vietnamese
refusals by field, nothing stored on a refusal, a writer turned away."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import get_settings
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.db.engine import session_scope
from service.db.models import Article, ArticleCorrection
from service.db.types import utcnow
from tests.actors import OPERATOR
from tests.unit.console.conftest import login, make_user, post_form


def published(status: str = "published") -> int:
    data = ArticleCreate(title="Kỷ niệm 97 năm", body_html="<p>Nội dung.</p>", status=status)
    with session_scope() as session:
        return create_article(session, data, utcnow(), get_settings(), OPERATOR).article.id


def corrections() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ArticleCorrection)) or 0


def test_an_editor_publishes_a_correction_from_the_article(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    article_id = published()
    assert f"/console/articles/{article_id}/correction" in client.get(f"/console/articles/{article_id}").text
    form = client.get(f"/console/articles/{article_id}/correction")
    assert form.status_code == 200 and "Thông tin chưa chính xác" in form.text
    done = post_form(client, f"/console/articles/{article_id}/correction", token,
                     {"wrong": "Ngày 2/2", "right": "Ngày 3/2", "apology": "on"})  # fmt: skip
    assert done.status_code == 303
    assert "Đã đăng cải chính" in client.get(done.headers["location"]).text
    with session_scope() as session:
        row = session.scalars(select(ArticleCorrection)).one()
        assert (row.wrong_text, row.right_text, row.apology) == ("Ngày 2/2", "Ngày 3/2", True)


def test_bad_input_is_refused_in_vietnamese_by_field_and_nothing_is_stored(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    article_id = published()
    empty = post_form(client, f"/console/articles/{article_id}/correction", token, {"wrong": "", "right": "Đúng"})
    assert empty.status_code == 422
    assert 'id="wrong-error"' in empty.text and 'aria-invalid="true"' in empty.text
    assert "Đúng" in empty.text  # what was typed stays
    long = post_form(client, f"/console/articles/{article_id}/correction", token, {"wrong": "Sai", "right": "x" * 2001})
    assert long.status_code == 422 and "Dài 2001 ký tự; tối đa 2000 ký tự." in long.text
    draft = published("draft")
    refused = post_form(client, f"/console/articles/{draft}/correction", token, {"wrong": "Sai", "right": "Đúng"})
    assert refused.status_code == 409 and "Chỉ cải chính được bài đang đăng" in refused.text
    assert corrections() == 0


def test_a_writer_is_refused_the_form_and_the_post(app_client: TestClient) -> None:
    make_user("phongvien", "writer")
    token = login(app_client, "phongvien")
    article_id = published()
    assert app_client.get(f"/console/articles/{article_id}/correction").status_code == 403
    refused = post_form(
        app_client, f"/console/articles/{article_id}/correction", token, {"wrong": "Sai", "right": "Đúng"}
    )
    assert refused.status_code == 403 and "Chỉ biên tập viên mới đăng cải chính" in refused.text
    assert corrections() == 0


def test_a_withdrawal_takes_a_reason_and_refuses_an_over_long_one(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    article_id = published()
    assert 'name="reason"' in client.get(f"/console/articles/{article_id}/withdraw").text
    long = post_form(client, f"/console/articles/{article_id}/withdraw", token, {"reason": "x" * 1001})
    assert long.status_code == 422 and "tối đa 1000 ký tự" in long.text
    with session_scope() as session:
        assert session.scalars(select(Article.status)).one() == "published"
    done = post_form(client, f"/console/articles/{article_id}/withdraw", token, {"reason": "Sai sự thật."})
    assert done.status_code == 303
    with session_scope() as session:
        assert session.scalars(select(Article.withdrawal_reason)).one() == "Sai sự thật."
