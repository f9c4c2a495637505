"""Bad instants and integers, on every endpoint that takes one: 422 naming the field, never 500,
nothing stored."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db.engine import session_scope
from service.db.models import Article, KeyDate, OutboxEvent
from tests.unit.api.conftest import make_token

TOO_BIG = str(2**63)  # one more than PostgreSQL's bigint holds
ARTICLE = {"title": "Bài viết", "body_html": "<p>Nội dung</p>"}
KEY_DATE = {"name": "Ngày thử", "calendar": "solar", "day": 1, "month": 5}


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token('admin')}"}


def rows(model: type) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def fields(response: object) -> set[str]:
    return {item["field"] for item in response.json()["detail"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [TOO_BIG, "0", "-1", "99999999999999999999999999"])
@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/api/v1/articles/{}", "article_id"),
        ("PATCH", "/api/v1/articles/{}", "article_id"),
        ("DELETE", "/api/v1/articles/{}", "article_id"),
        ("GET", "/api/v1/subscriptions/{}", "subscription_id"),
        ("PATCH", "/api/v1/subscriptions/{}", "subscription_id"),
        ("DELETE", "/api/v1/subscriptions/{}", "subscription_id"),
        ("POST", "/api/v1/subscriptions/{}/rotate-secret", "subscription_id"),
        ("POST", "/api/v1/subscriptions/{}/test", "subscription_id"),
        ("POST", "/api/v1/subscriptions/{}/recover?since=2026-01-01T00:00:00Z", "subscription_id"),
        ("DELETE", "/api/v1/tokens/{}", "token_id"),
        ("GET", "/api/v1/deliveries?announcement={}", "announcement"),
        ("GET", "/api/v1/deliveries?subscription={}", "subscription"),
    ],
)
def test_ids_outside_what_the_database_holds_are_422(
    raw_client: TestClient, admin: dict[str, str], method: str, path: str, field: str, value: str
) -> None:
    body = {"title": "x"} if method == "PATCH" and "articles" in path else {"locale": "en"}
    kwargs = {"json": body} if method == "PATCH" else {}
    response = raw_client.request(method, path.format(value), headers=admin, **kwargs)
    assert response.status_code == 422, response.text
    assert fields(response) == {field}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/api/v1/articles?offset={TOO_BIG}", "offset"),
        ("/api/v1/articles?offset=-1", "offset"),
        ("/api/v1/articles?limit=0", "limit"),
        ("/api/v1/articles?limit=201", "limit"),
        (f"/api/v1/articles?limit={TOO_BIG}", "limit"),
        (f"/api/v1/subscriptions?offset={TOO_BIG}", "offset"),
        ("/api/v1/subscriptions?limit=501", "limit"),
        (f"/api/v1/deliveries?offset={TOO_BIG}", "offset"),
        ("/api/v1/deliveries?limit=0", "limit"),
        ("/api/v1/calendar/upcoming?days=-1", "days"),
        (f"/api/v1/calendar/upcoming?days={TOO_BIG}", "days"),
        ("/api/v1/calendar/occurrences?year=1900", "year"),
        (f"/api/v1/calendar/occurrences?year={TOO_BIG}", "year"),
    ],
)
def test_counts_and_years_are_bounded(raw_client: TestClient, admin: dict[str, str], path: str, field: str) -> None:
    response = raw_client.get(path, headers=admin)
    assert response.status_code == 422, response.text
    assert fields(response) == {field}


BAD_INSTANTS = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-02T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
]


@pytest.mark.parametrize("instant", BAD_INSTANTS)
def test_publish_at_outside_the_sane_range_is_422_and_stores_nothing(
    raw_client: TestClient, admin: dict[str, str], instant: str
) -> None:
    response = raw_client.post("/api/v1/articles", json={**ARTICLE, "publish_at": instant}, headers=admin)
    assert response.status_code == 422, response.text
    assert fields(response) == {"publish_at"}
    assert rows(Article) == 0 and rows(OutboxEvent) == 0

    created = raw_client.post("/api/v1/articles", json=ARTICLE, headers=admin).json()
    patched = raw_client.patch(f"/api/v1/articles/{created['id']}", json={"publish_at": instant}, headers=admin)
    assert patched.status_code == 422 and fields(patched) == {"publish_at"}
    assert raw_client.get(f"/api/v1/articles/{created['id']}", headers=admin).json()["publish_at"] is None


@pytest.mark.parametrize("instant", [*BAD_INSTANTS, "yesterday", ""])
def test_recover_since_outside_the_sane_range_is_422(
    raw_client: TestClient, admin: dict[str, str], instant: str
) -> None:
    sub = raw_client.post("/api/v1/subscriptions", json={"channel": "email", "target": "a@example.vn"}, headers=admin)
    response = raw_client.post(
        f"/api/v1/subscriptions/{sub.json()['id']}/recover", params={"since": instant}, headers=admin
    )
    assert response.status_code == 422, response.text
    assert fields(response) == {"since"}


def test_recover_since_without_a_zone_is_local_time(raw_client: TestClient, admin: dict[str, str]) -> None:
    sub = raw_client.post("/api/v1/subscriptions", json={"channel": "email", "target": "a@example.vn"}, headers=admin)
    for since in ("2026-01-01T00:00:00", "2026-01-01T00:00", "2026-01-01"):
        response = raw_client.post(
            f"/api/v1/subscriptions/{sub.json()['id']}/recover", params={"since": since}, headers=admin
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"requeued": 0}


def test_publish_at_without_a_zone_is_local_time(raw_client: TestClient, admin: dict[str, str]) -> None:
    response = raw_client.post("/api/v1/articles", json={**ARTICLE, "publish_at": "2030-02-03T08:00:00"}, headers=admin)
    assert response.status_code == 201
    assert response.json()["publish_at"] == "2030-02-03T01:00:00Z"


@pytest.mark.parametrize("ids", [[2**63], [0], [-5], [True], ["3"]])
def test_key_date_subscription_ids_are_bounded(raw_client: TestClient, admin: dict[str, str], ids: list[Any]) -> None:
    before = rows(KeyDate)
    response = raw_client.post(
        "/api/v1/calendar/key-dates", json={**KEY_DATE, "events_to": {"subscription_ids": ids}}, headers=admin
    )
    assert response.status_code == 422, response.text
    assert fields(response) == {"events_to"}
    assert rows(KeyDate) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/v1/articles?category=th%00oi-su", None, "category"),
        ("GET", "/api/v1/articles?category=Th%E1%BB%9Di%20s%E1%BB%B1", None, "category"),
        ("GET", "/api/v1/subscriptions?channel=email%00", None, "channel"),
        ("GET", "/api/v1/calendar/key-dates/ngay%00", None, "key_date_id"),
        ("DELETE", "/api/v1/calendar/key-dates/" + "a" * 81, None, "key_date_id"),
        ("POST", "/api/v1/deliveries/msg_%00/replay", None, "delivery_id"),
        ("POST", "/api/v1/subscriptions", {"channel": "email", "target": "a\u0000@example.vn"}, "target"),
        ("POST", "/api/v1/subscriptions", {"channel": "zalo", "target": "1", "options": {"k": "\u0000"}}, "options"),
        ("POST", "/api/v1/calendar/key-dates", {**KEY_DATE, "events_to": {"channels": ["e\u0000mail"]}}, "events_to"),
        ("POST", "/api/v1/calendar/key-dates", {**KEY_DATE, "events_to": {"channels": ["fax"]}}, "events_to"),
    ],
)
def test_strings_that_no_row_can_hold_are_422(
    raw_client: TestClient, admin: dict[str, str], method: str, path: str, body: dict[str, Any] | None, field: str
) -> None:
    # PostgreSQL refuses a NUL byte in text (SQLite, under these unit tests, would not).
    response = raw_client.request(method, path, json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert fields(response) == {field}


def test_a_nul_in_a_key_date_template_is_removed(raw_client: TestClient, admin: dict[str, str]) -> None:
    response = raw_client.post(
        "/api/v1/calendar/key-dates", json={**KEY_DATE, "templates": {"vi": "{{ name }}\u0000!"}}, headers=admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["templates"] == {"vi": "{{ name }}!"}


def test_an_unsubscribe_token_we_never_made_is_404_without_a_lookup(raw_client: TestClient) -> None:
    for token in ("x%00y", "a" * 42, "a" * 44):
        assert raw_client.post(f"/unsubscribe/{token}").status_code == 404
