"""The review transitions over the API: same rules as the console."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.unit.api.conftest import make_token

DRAFT = {"title": "Bài chờ duyệt", "body_html": "<p>Nội dung</p>", "status": "draft"}


def test_submit_return_submit_approve(client: TestClient) -> None:
    writer = {"Authorization": f"Bearer {make_token('publish')}"}
    editor = {"Authorization": f"Bearer {make_token('publish')}"}
    article = client.post("/api/v1/articles", json=DRAFT, headers=writer).json()
    url = f"/api/v1/articles/{article['id']}"

    submitted = client.post(f"{url}/submit", headers=writer)
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending_review"
    assert client.patch(url, json={"title": "x"}, headers=writer).status_code == 409

    empty = client.post(f"{url}/return", json={"comment": " "}, headers=editor)
    assert empty.status_code == 422 and empty.json()["detail"][0]["field"] == "comment"
    returned = client.post(f"{url}/return", json={"comment": "Thêm nguồn."}, headers=editor)
    assert returned.status_code == 200 and returned.json()["status"] == "draft"

    assert client.post(f"{url}/submit", headers=writer).status_code == 200
    own = client.post(f"{url}/approve", headers=writer)
    assert own.status_code == 409 and "another editor" in own.json()["detail"]
    approved = client.post(f"{url}/approve", headers=editor)
    assert approved.status_code == 200 and approved.json()["status"] == "published"
    assert client.post(f"{url}/approve", headers=editor).status_code == 409


def test_approve_can_schedule_and_refuses_unknown_fields(client: TestClient) -> None:
    writer = {"Authorization": f"Bearer {make_token('publish')}"}
    editor = {"Authorization": f"Bearer {make_token('publish')}"}
    article = client.post("/api/v1/articles", json=DRAFT, headers=writer).json()
    url = f"/api/v1/articles/{article['id']}"
    client.post(f"{url}/submit", headers=writer)
    assert client.post(f"{url}/approve", json={"when": "x"}, headers=editor).status_code == 422
    scheduled = client.post(f"{url}/approve", json={"publish_at": "2099-02-03T07:00"}, headers=editor)
    assert scheduled.status_code == 200
    assert scheduled.json()["status"] == "scheduled"
    published_at = datetime.fromisoformat(scheduled.json()["publish_at"])
    assert published_at == datetime(2099, 2, 3, 0, 0, tzinfo=UTC)  # 07:00 in Asia/Ho_Chi_Minh


def test_submitting_a_published_article_or_without_a_token_is_refused(client: TestClient) -> None:
    token = {"Authorization": f"Bearer {make_token('publish')}"}
    article = client.post("/api/v1/articles", json={**DRAFT, "status": "published"}, headers=token).json()
    assert client.post(f"/api/v1/articles/{article['id']}/submit", headers=token).status_code == 409
    assert client.post(f"/api/v1/articles/{article['id']}/submit").status_code == 401
    assert client.post("/api/v1/articles/999999/submit", headers=token).status_code == 404


def test_a_writer_token_keeps_drafts_and_submits_but_never_publishes(client: TestClient) -> None:
    writer = {"Authorization": f"Bearer {make_token('write')}"}
    editor = {"Authorization": f"Bearer {make_token('publish')}"}
    assert client.post("/api/v1/articles", json={**DRAFT, "status": "published"}, headers=writer).status_code == 403
    assert (
        client.post(
            "/api/v1/articles", json={k: v for k, v in DRAFT.items() if k != "status"}, headers=writer
        ).status_code
        == 403
    )
    created = client.post("/api/v1/articles", json=DRAFT, headers=writer)
    assert created.status_code == 201
    url = f"/api/v1/articles/{created.json()['id']}"
    assert client.patch(url, json={"title": "Sửa nháp"}, headers=writer).status_code == 200
    refused = client.patch(url, json={"status": "published"}, headers=writer)
    assert refused.status_code == 403 and "'write' scope only" in refused.json()["detail"]
    assert client.get(url, headers=writer).json()["status"] == "draft"
    assert client.post(f"{url}/submit", headers=writer).status_code == 200
    assert client.post(f"{url}/approve", headers=writer).status_code == 403
    assert client.post(f"{url}/return", json={"comment": "x"}, headers=writer).status_code == 403
    assert client.post(f"{url}/approve", headers=editor).json()["status"] == "published"
    # Published: a writer's token may no longer change it or take it down.
    assert client.patch(url, json={"title": "Lén sửa"}, headers=writer).status_code == 403
    assert client.delete(url, headers=writer).status_code == 403
    assert client.get(url, headers=writer).json()["title"] == "Sửa nháp"
