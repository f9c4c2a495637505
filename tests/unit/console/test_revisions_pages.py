"""Revisions in the console: every save kept, a diff that stays inert, restore as a new save,
and a stale form refused instead of silently undoing someone else's save."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db.engine import session_scope
from service.db.models import Article, ArticleRevision, OutboxEvent
from tests.unit.console.conftest import ORIGIN, hidden

FIRST = {"title": "Tin ban đầu", "body_html": '<p>Nội dung <a href="https://a.vn/">nguồn</a></p>', "author": "PV"}


def post(client: TestClient, path: str, token: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": token, **fields}, headers={"Origin": ORIGIN})


def revisions() -> list[ArticleRevision]:
    with session_scope() as session:
        return list(session.scalars(select(ArticleRevision).order_by(ArticleRevision.id)))


def save(client: TestClient, token: str, location: str, **fields: str):  # type: ignore[no-untyped-def]
    loaded = hidden(client.get(location).text, "loaded_revision_id")
    return post(client, location, token, **{**FIRST, **fields}, action="publish", loaded_revision_id=loaded)


def test_each_save_is_a_revision_with_a_readable_escaped_diff(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    location = post(client, "/console/articles/new", token, **FIRST, action="publish").headers["location"]
    save(
        client,
        token,
        location,
        title="Tin <b>đã sửa</b>",
        body_html='<p>Nội dung <a href="https://b.vn/">nguồn</a></p>',
    )
    first, second = revisions()
    assert (first.title, second.title) == ("Tin ban đầu", "Tin <b>đã sửa</b>")
    assert second.author == "user:bientap"
    page = client.get(location).text
    assert f"/revisions/{first.id}" in page and f"/revisions/{second.id}" in page

    diff = client.get(f"{location}/revisions/{second.id}").text
    assert "Tin <del>ban</del><ins>&lt;b&gt;đã</ins> <del>đầu</del><ins>sửa&lt;/b&gt;</ins>" in diff
    assert "<b>đã sửa</b>" not in diff  # the title's markup is text, not markup
    assert "https://a.vn/" in diff and "https://b.vn/" in diff  # a changed link is a change


def test_restore_saves_the_old_content_as_a_new_revision_through_the_outbox(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    location = post(client, "/console/articles/new", token, **FIRST, action="publish").headers["location"]
    save(client, token, location, title="Tin sửa sai")
    first = revisions()[0]
    restored = post(client, f"{location}/revisions/{first.id}/restore", token)
    assert restored.status_code == 303
    latest = revisions()[-1]
    assert len(revisions()) == 3 and latest.title == "Tin ban đầu" and latest.restored_from_id == first.id
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert article.title == "Tin ban đầu" and article.status == "published"
        types = session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)).all()
        assert types == ["article.published", "article.updated", "article.updated"]
    assert "khôi phục từ bản" in client.get(location).text


def test_restore_needs_the_csrf_token(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    location = post(client, "/console/articles/new", token, **FIRST, action="publish").headers["location"]
    save(client, token, location, title="Tin sửa sai")
    first = revisions()[0]
    refused = client.post(f"{location}/revisions/{first.id}/restore", data={}, headers={"Origin": ORIGIN})
    assert refused.status_code == 403 and len(revisions()) == 2


def test_a_form_loaded_before_someone_else_saved_is_refused_and_keeps_the_typing(
    editor: tuple[TestClient, str],
) -> None:
    client, token = editor
    location = post(client, "/console/articles/new", token, **FIRST, action="publish").headers["location"]
    stale = hidden(client.get(location).text, "loaded_revision_id")
    save(client, token, location, title="Bản của người thứ nhất")
    mine = {**FIRST, "title": "Bản của tôi", "action": "publish", "loaded_revision_id": stale}
    conflict = post(client, location, token, **mine)
    assert conflict.status_code == 409
    assert "người khác lưu" in conflict.text and 'value="Bản của tôi"' in conflict.text
    with session_scope() as session:
        assert session.scalars(select(Article.title)).one() == "Bản của người thứ nhất"
    # Pressing save again on the re-rendered form overwrites on purpose.
    again = post(client, location, token, **{**mine, "loaded_revision_id": hidden(conflict.text, "loaded_revision_id")})
    assert again.status_code == 303
    with session_scope() as session:
        assert session.scalars(select(Article.title)).one() == "Bản của tôi"
