import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db.engine import session_scope
from service.db.models import Article, OutboxEvent
from tests.unit.api.conftest import make_token

ARTICLE = {"title": "Kỷ niệm 97 năm Ngày thành lập Đảng", "body_html": "<p>Nội dung</p>", "categories": ["Thời sự"]}


def count(model: type) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_create_returns_201_with_identity_and_location(client: TestClient, publisher: dict[str, str]) -> None:
    response = client.post("/api/v1/articles", json=ARTICLE, headers=publisher)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["guid"].startswith("urn:uuid:")
    assert body["url"] == f"https://bantin.example.vn/articles/{body['id']}/ky-niem-97-nam-ngay-thanh-lap-dang"
    assert body["status"] == "published" and body["published_at"]
    assert response.headers["location"] == f"/api/v1/articles/{body['id']}"
    assert count(OutboxEvent) == 1


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({}, 401, "missing bearer token"),
        ({"Authorization": "Bearer btn_nope"}, 401, "unknown or revoked token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "missing bearer token"),
    ],
)
def test_unauthenticated_requests_are_refused(
    client: TestClient, headers: dict[str, str], status: int, detail: str
) -> None:
    response = client.post("/api/v1/articles", json=ARTICLE, headers=headers)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert count(Article) == 0


def test_revoked_token_is_refused(client: TestClient) -> None:
    from service.auth.tokens import create_token, revoke_token
    from service.db.types import utcnow

    with session_scope() as session:
        token, raw = create_token(session, "old", ["publish"], utcnow())
        revoke_token(session, token.id, utcnow())
    response = client.get("/api/v1/articles", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_admin_implies_publish(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {make_token('admin')}"}
    assert client.post("/api/v1/articles", json=ARTICLE, headers=headers).status_code == 201


def test_validation_errors_name_the_field_and_store_nothing(client: TestClient, publisher: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/articles", json={"title": "", "body_html": "x", "image_url": "nope"}, headers=publisher
    )
    assert response.status_code == 422
    fields = {item["field"]: item["message"] for item in response.json()["detail"]}
    assert fields == {"title": "must not be empty", "image_url": "must be an absolute http:// or https:// URL"}
    assert count(Article) == 0 and count(OutboxEvent) == 0


def test_malformed_json_is_a_clear_422(client: TestClient, publisher: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/articles", content=b'{"title": "x",', headers={**publisher, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"][0]["message"]


def test_oversized_request_is_413_and_stores_nothing(client: TestClient, publisher: dict[str, str]) -> None:
    huge = {"title": "t", "body_html": "x" * (1_000_000 + 70 * 1024)}
    response = client.post("/api/v1/articles", json=huge, headers=publisher)
    assert response.status_code == 413
    assert response.json()["detail"][0]["field"] == "body"
    assert count(Article) == 0


def test_oversized_chunked_request_is_413_not_400(client: TestClient, publisher: dict[str, str]) -> None:
    # No Content-Length: the limit is met while the body streams in, inside FastAPI's body parsing.
    chunks = (b'{"title": "t", "body_html": "' if n == 0 else b"x" * 65536 for n in range(20))
    response = client.post(
        "/api/v1/articles", content=chunks, headers={**publisher, "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text
    assert response.json()["detail"][0]["field"] == "body"
    assert count(Article) == 0


def test_body_just_over_the_limit_is_413_naming_body_html(client: TestClient, publisher: dict[str, str]) -> None:
    # Too large is 413 whether the request as a whole or the field is over its limit.
    response = client.post("/api/v1/articles", json={"title": "t", "body_html": "x" * 1_000_001}, headers=publisher)
    assert response.status_code == 413
    assert response.json()["detail"][0]["field"] == "body_html"
    assert count(Article) == 0


def test_idempotency_key_replays_the_first_response(client: TestClient, publisher: dict[str, str]) -> None:
    headers = {**publisher, "Idempotency-Key": "bai-97-nam"}
    first = client.post("/api/v1/articles", json=ARTICLE, headers=headers)
    second = client.post("/api/v1/articles", json=ARTICLE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]
    assert count(Article) == 1 and count(OutboxEvent) == 1


def test_idempotency_key_reused_with_another_body_is_refused(client: TestClient, publisher: dict[str, str]) -> None:
    headers = {**publisher, "Idempotency-Key": "k1"}
    assert client.post("/api/v1/articles", json=ARTICLE, headers=headers).status_code == 201
    response = client.post("/api/v1/articles", json={**ARTICLE, "title": "Khác"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "Idempotency-Key"
    assert count(Article) == 1


def test_patch_updates_and_keeps_guid(client: TestClient, publisher: dict[str, str]) -> None:
    created = client.post("/api/v1/articles", json=ARTICLE, headers=publisher).json()
    response = client.patch(f"/api/v1/articles/{created['id']}", json={"title": "Tiêu đề mới"}, headers=publisher)
    assert response.status_code == 200
    body = response.json()
    assert body["guid"] == created["guid"]
    assert body["title"] == "Tiêu đề mới"
    assert body["updated_at"] > created["updated_at"]


def test_patch_and_delete_unknown_article_are_404(client: TestClient, publisher: dict[str, str]) -> None:
    assert client.patch("/api/v1/articles/999", json={"title": "x"}, headers=publisher).status_code == 404
    assert client.delete("/api/v1/articles/999", headers=publisher).status_code == 404
    assert client.get("/api/v1/articles/999", headers=publisher).status_code == 404


def test_delete_withdraws_then_patch_conflicts(client: TestClient, publisher: dict[str, str]) -> None:
    created = client.post("/api/v1/articles", json=ARTICLE, headers=publisher).json()
    assert client.delete(f"/api/v1/articles/{created['id']}", headers=publisher).status_code == 204
    assert client.get(f"/api/v1/articles/{created['id']}", headers=publisher).json()["status"] == "withdrawn"
    response = client.patch(f"/api/v1/articles/{created['id']}", json={"title": "x"}, headers=publisher)
    assert response.status_code == 409


def test_list_paginates_and_filters(client: TestClient, publisher: dict[str, str]) -> None:
    for n in range(3):
        client.post("/api/v1/articles", json={**ARTICLE, "title": f"Bài {n}"}, headers=publisher)
    client.post("/api/v1/articles", json={**ARTICLE, "status": "draft", "categories": []}, headers=publisher)
    page = client.get("/api/v1/articles?limit=2&offset=0&category=thoi-su", headers=publisher).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    drafts = client.get("/api/v1/articles?status=draft", headers=publisher).json()
    assert drafts["total"] == 1
    bad = client.get("/api/v1/articles?status=gone&limit=0", headers=publisher)
    assert bad.status_code == 422
    assert {item["field"] for item in bad.json()["detail"]} == {"status", "limit"}


def test_token_endpoints_need_admin_and_never_show_secrets(client: TestClient, publisher: dict[str, str]) -> None:
    assert client.get("/api/v1/tokens", headers=publisher).status_code == 403
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    listed = client.get("/api/v1/tokens", headers=admin)
    assert listed.status_code == 200
    assert {t["scopes"][0] for t in listed.json()} == {"publish", "admin"}
    assert "btn_" not in listed.text and "hash" not in listed.text
    used = {t["scopes"][0]: t["last_used_at"] for t in listed.json()}
    assert used["admin"] is not None  # it just authenticated this request
    assert used["publish"] is not None  # used by the 403 above
    publish_id = next(t["id"] for t in listed.json() if t["scopes"] == ["publish"])
    assert client.delete(f"/api/v1/tokens/{publish_id}", headers=admin).json()["revoked_at"]
    assert client.get("/api/v1/articles", headers=publisher).status_code == 401
