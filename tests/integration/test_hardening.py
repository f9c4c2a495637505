"""Bad input and races against the real API, on PostgreSQL (which refuses what SQLite lets
through: NUL bytes in text, integers over 64 bits) and on a SQLite file (whose writers
queue on one lock, decision 0027): never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.conftest import DATABASE_KINDS, create_database, drop_database
from tests.integration.stack import PrivateRedis, Stack, wait_until

PARALLEL = 60
ROUNDS = 4


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """The API alone (two uvicorn processes, so requests really run at once) on a fresh
    database and a Redis of its own (no worker of another stack takes its events)."""
    directory = Path(tmp_path_factory.mktemp("race"))
    name = f"bantin_it_{uuid.uuid4().hex[:10]}"
    database_url = create_database(name) if request.param == "postgresql" else f"sqlite:///{directory / 'race.db'}"
    broker = PrivateRedis()
    broker.start()
    stack = Stack(database_url, broker.url, directory)
    try:
        assert stack.run("db", "upgrade").returncode == 0
        stack.start("api", "api", "--port", str(stack.port), "--no-migrate", "--workers", "2")
        wait_until(stack._api_answers, 60, "the API to answer /healthz")
        yield stack, database_url
    finally:
        stack.stop_all()
        broker.kill()
        if request.param == "postgresql":
            drop_database(name)


def post_all(stack: Stack, token: str, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=stack.base_url, headers=headers, timeout=60) as client,
        ThreadPoolExecutor(max_workers=PARALLEL) as pool,
    ):
        return list(pool.map(lambda body: client.post(path, json=body), bodies))


def test_parallel_posts_naming_the_same_new_categories_all_succeed(api: tuple[Stack, str]) -> None:
    stack, database_url = api
    token = stack.create_token("publish")
    for round_ in range(ROUNDS):
        names = [f"Chuyên mục mới {uuid.uuid4().hex[:6]} {n}" for n in range(3)]
        bodies = [
            {"title": f"Bài {round_}.{i}", "body_html": "<p>Nội dung</p>", "categories": names} for i in range(PARALLEL)
        ]
        responses = post_all(stack, token, "/api/v1/articles", bodies)
        statuses = [r.status_code for r in responses]
        assert statuses == [201] * PARALLEL, [r.text for r in responses if r.status_code != 201][:3]
        slugs = {tuple(c["slug"] for c in r.json()["categories"]) for r in responses}
        assert len(slugs) == 1  # every article got the same three categories
    engine = create_engine(database_url)
    with engine.connect() as connection:
        categories = connection.execute(text("SELECT count(*), count(DISTINCT slug) FROM categories")).one()
        links = connection.execute(text("SELECT count(*) FROM article_categories")).scalar_one()
    engine.dispose()
    assert categories == (3 * ROUNDS, 3 * ROUNDS)
    assert links == 3 * PARALLEL * ROUNDS


def test_parallel_creation_of_one_key_date_is_one_201_and_the_rest_409(api: tuple[Stack, str]) -> None:
    stack, _ = api
    token = stack.create_token("admin")
    key_date = {"id": f"ngay-{uuid.uuid4().hex[:6]}", "name": "Ngày thử", "calendar": "solar", "day": 1, "month": 6}
    responses = post_all(stack, token, "/api/v1/calendar/key-dates", [key_date] * PARALLEL)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (PARALLEL - 1), {r.status_code: r.text for r in responses}
    assert "exists already" in next(r for r in responses if r.status_code == 409).json()["detail"]


TOO_BIG = str(2**63)
KEY_DATE = {"name": "Ngày thử", "calendar": "solar", "day": 1, "month": 6}


def test_inputs_postgresql_cannot_hold_are_refused_never_500(api: tuple[Stack, str]) -> None:
    stack, _ = api
    admin = {"Authorization": f"Bearer {stack.create_token('admin')}"}
    requests: list[tuple[str, str, dict[str, Any] | None, set[int]]] = [
        ("GET", f"/api/v1/articles/{TOO_BIG}", None, {422}),
        ("GET", f"/api/v1/articles?offset={TOO_BIG}", None, {422}),
        ("GET", f"/api/v1/deliveries?subscription={TOO_BIG}", None, {422}),
        ("DELETE", f"/api/v1/tokens/{TOO_BIG}", None, {422}),
        ("POST", f"/api/v1/subscriptions/{TOO_BIG}/recover?since=2026-01-01", None, {422}),
        ("POST", "/api/v1/subscriptions/1/recover?since=2026-01-01T00:00:00", None, {404}),  # no zone: local
        ("POST", "/api/v1/subscriptions/1/recover?since=9999-12-31T23:59:59-14:00", None, {422}),
        ("GET", "/api/v1/articles?category=a%00b", None, {422}),
        ("GET", "/api/v1/subscriptions?channel=a%00", None, {422}),
        ("GET", "/api/v1/calendar/key-dates/a%00", None, {422}),
        ("POST", "/api/v1/deliveries/msg_%00/replay", None, {422}),
        ("POST", "/unsubscribe/a%00b", None, {404}),
        (
            "POST",
            "/api/v1/articles",
            {"title": "t", "body_html": "x", "publish_at": "0001-01-01T00:00:00+14:00"},
            {422},
        ),
        (
            "POST",
            "/api/v1/articles",
            {"title": "T\u0000", "body_html": "<p>a\u0000</p>", "categories": ["c\u0000"]},
            {201},
        ),
        ("POST", "/api/v1/subscriptions", {"channel": "email", "target": "a\u0000@example.vn"}, {422}),
        ("POST", "/api/v1/subscriptions", {"channel": "zalo", "target": "1", "options": {"k": "\u0000"}}, {422}),
        ("POST", "/api/v1/calendar/key-dates", {**KEY_DATE, "events_to": {"subscription_ids": [2**63]}}, {422}),
        ("POST", "/api/v1/calendar/key-dates", {**KEY_DATE, "events_to": {"channels": ["e\u0000"]}}, {422}),
        (
            "POST",
            "/api/v1/calendar/key-dates",
            {**KEY_DATE, "id": "nul", "templates": {"vi": "{{ name }}\u0000"}},
            {201},
        ),
    ]
    with httpx.Client(base_url=stack.base_url, headers=admin, timeout=30) as client:
        for method, path, body, expected in requests:
            response = client.request(method, path, json=body)
            assert response.status_code in expected, (method, path, response.status_code, response.text[:300])
