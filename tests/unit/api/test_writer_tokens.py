"""A writer's API token (scope ``write`` alone) keeps its own drafts: never publishes, withdraws or changes others'."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.db.models import Article
from tests.unit.api.conftest import make_token

DRAFT = {"title": "Bài nháp của phóng viên", "body_html": "<p>Nội dung <b>đậm</b></p>", "status": "draft"}


def bearer(scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(scope)}"}


def stored(article_id: int) -> tuple[str, str, str | None]:
    with session_scope() as session:
        article = session.get(Article, article_id)
        assert article is not None
        return article.title, article.status, article.updated_by


def test_a_writer_token_changes_and_submits_only_the_drafts_it_created(client: TestClient) -> None:
    mine, theirs = bearer("write"), bearer("write")
    own = client.post("/api/v1/articles", json=DRAFT, headers=mine).json()
    other = client.post("/api/v1/articles", json={**DRAFT, "title": "Bài của người khác"}, headers=theirs).json()

    assert (
        client.patch(f"/api/v1/articles/{own['id']}", json={"title": "Sửa bài mình"}, headers=mine).status_code == 200
    )
    before = stored(other["id"])
    refused = client.patch(f"/api/v1/articles/{other['id']}", json={"title": "Sửa trộm"}, headers=mine)
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "this token has the 'write' scope only: it changes only the drafts it created itself, "
        f"and article {other['id']} was created by someone else"
    )
    submitted = client.post(f"/api/v1/articles/{other['id']}/submit", headers=mine)
    assert submitted.status_code == 403 and "created by someone else" in submitted.json()["detail"]
    assert stored(other["id"]) == before  # nothing changed, not even updated_by
    assert client.post(f"/api/v1/articles/{own['id']}/submit", headers=mine).status_code == 200


def test_a_writer_token_cannot_touch_an_editors_article_nor_withdraw_nor_publish(client: TestClient) -> None:
    writer, editor = bearer("write"), bearer("publish")
    published = client.post("/api/v1/articles", json={**DRAFT, "status": "published"}, headers=editor).json()
    draft = client.post("/api/v1/articles", json=DRAFT, headers=editor).json()
    for article in (published, draft):
        refused = client.patch(f"/api/v1/articles/{article['id']}", json={"title": "x"}, headers=writer)
        assert refused.status_code == 403 and "created by someone else" in refused.json()["detail"]
        gone = client.delete(f"/api/v1/articles/{article['id']}", headers=writer)
        assert gone.status_code == 403
        assert (
            gone.json()["detail"]
            == "this token has the 'write' scope only: withdrawing an article needs the 'publish' scope"
        )
    assert stored(published["id"])[1] == "published" and stored(draft["id"])[1] == "draft"

    own = client.post("/api/v1/articles", json=DRAFT, headers=writer).json()
    for change in ({"status": "published"}, {"title": "Đăng luôn", "status": "published"}):
        refused = client.patch(f"/api/v1/articles/{own['id']}", json=change, headers=writer)
        assert refused.status_code == 403 and "'write' scope only" in refused.json()["detail"]
    assert client.delete(f"/api/v1/articles/{own['id']}", headers=writer).status_code == 403
    assert client.post(f"/api/v1/articles/{own['id']}/approve", headers=writer).status_code == 403
    assert stored(own["id"])[:2] == (DRAFT["title"], "draft")


def test_a_writer_token_cannot_change_its_own_article_once_an_editor_published_it(client: TestClient) -> None:
    writer, editor = bearer("write"), bearer("publish")
    own = client.post("/api/v1/articles", json=DRAFT, headers=writer).json()
    client.post(f"/api/v1/articles/{own['id']}/submit", headers=writer)
    assert client.post(f"/api/v1/articles/{own['id']}/approve", headers=editor).status_code == 200
    refused = client.patch(f"/api/v1/articles/{own['id']}", json={"title": "Sửa sau khi đăng"}, headers=writer)
    assert refused.status_code == 403
    assert (
        refused.json()["detail"] == "this token has the 'write' scope only: it keeps drafts and submits them for review"
    )


def test_publish_tokens_still_change_anyones_article_and_writers_cannot_manage_tokens(client: TestClient) -> None:
    writer, editor = bearer("write"), bearer("publish")
    own = client.post("/api/v1/articles", json=DRAFT, headers=writer).json()
    assert (
        client.patch(f"/api/v1/articles/{own['id']}", json={"title": "Biên tập sửa"}, headers=editor).status_code == 200
    )
    assert client.get("/api/v1/tokens", headers=writer).status_code == 403
    assert client.delete("/api/v1/tokens/1", headers=writer).status_code == 403


def test_the_writer_refusals_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/api/v1/articles", "post"),
        ("/api/v1/articles/{article_id}", "patch"),
        ("/api/v1/articles/{article_id}", "delete"),
        ("/api/v1/articles/{article_id}/submit", "post"),
    ):
        assert "403" in paths[path][method]["responses"], (path, method)
