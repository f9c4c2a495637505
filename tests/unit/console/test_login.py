"""Sign in and out of the console: cookies, fixation, CSRF on the login form, throttling."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from service.db.engine import session_scope
from service.db.models import StaffSession
from tests.unit.console.conftest import ORIGIN, PASSWORD, hidden, login, make_user


def test_pages_redirect_to_sign_in_when_signed_out(app_client: TestClient) -> None:
    response = app_client.get("/console/articles")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/articles"


def test_sign_in_sets_a_secure_httponly_lax_cookie_and_lands_on_next(app_client: TestClient) -> None:
    make_user()
    page = app_client.get("/console/login?next=/console/articles")
    assert page.status_code == 200 and "Đăng nhập" in page.text
    response = app_client.post(
        "/console/login",
        data={
            "username": "bientap",
            "password": PASSWORD,
            "login_csrf": hidden(page.text, "login_csrf"),
            "next": "/console/articles",
        },
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/articles"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("bantin_console="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert "Tổng quan" in app_client.get("/console/").text


def test_next_cannot_send_the_user_to_another_site(app_client: TestClient) -> None:
    make_user()
    for target in ("https://evil.example/", "//evil.example/console/", "/console/\\evil"):
        page = app_client.get("/console/login")
        response = app_client.post(
            "/console/login",
            data={
                "username": "bientap",
                "password": PASSWORD,
                "login_csrf": hidden(page.text, "login_csrf"),
                "next": target,
            },
            headers={"Origin": ORIGIN},
        )
        assert response.headers["location"] == "/console/"


def test_signing_in_again_replaces_the_session_id(app_client: TestClient) -> None:
    make_user()
    login(app_client)
    first = app_client.cookies.get("bantin_console")
    login(app_client)
    second = app_client.cookies.get("bantin_console")
    assert first != second
    with session_scope() as session:
        assert session.query(StaffSession).count() == 1  # the old session ended


def test_wrong_password_keeps_the_username_and_says_so(app_client: TestClient) -> None:
    make_user()
    page = app_client.get("/console/login")
    response = app_client.post(
        "/console/login",
        data={"username": "bientap", "password": "sai", "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 401
    assert "không đúng" in response.text and 'value="bientap"' in response.text
    assert "bantin_console" not in app_client.cookies


def test_login_form_needs_its_token_and_our_origin(app_client: TestClient) -> None:
    make_user()
    page = app_client.get("/console/login")
    token = hidden(page.text, "login_csrf")
    base = {"username": "bientap", "password": PASSWORD}
    assert app_client.post("/console/login", data=base, headers={"Origin": ORIGIN}).status_code == 403
    wrong_origin = app_client.post(
        "/console/login", data={**base, "login_csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert wrong_origin.status_code == 403
    assert "bantin_console" not in app_client.cookies


def attempt(client: TestClient, password: str, headers: dict[str, str] | None = None) -> Response:
    page = client.get("/console/login")
    response: Response = client.post(
        "/console/login",
        data={"username": "bientap", "password": password, "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN, **(headers or {})},
    )
    return response


def test_five_failures_then_refused_even_with_the_right_password(app_client: TestClient) -> None:
    make_user()
    for _ in range(5):
        assert attempt(app_client, "sai mật khẩu").status_code == 401
    response = attempt(app_client, PASSWORD)
    assert response.status_code == 429
    assert "quá nhiều lần" in response.text and "Hãy thử lại sau 15 phút." in response.text
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60
    assert "bantin_console" not in app_client.cookies
    app_client.get("/console/login?lang=en")  # the console remembers the language in a cookie
    english = attempt(app_client, PASSWORD)
    assert english.status_code == 429 and "Try again in 15 minutes." in english.text


def test_the_owner_signs_in_from_a_client_that_has_not_failed(app_client: TestClient, console_app: FastAPI) -> None:
    """Five wrong passwords from one address, then five more from five others: the account is
    slowed for those addresses, never locked for the owner (decision 0028)."""
    make_user()
    for number in range(6):
        with TestClient(console_app, base_url=ORIGIN, client=(f"203.0.113.{number}", 40000)) as attacker:
            for _ in range(5 if number == 0 else 1):
                assert attempt(attacker, "sai mật khẩu").status_code == 401
    with TestClient(console_app, base_url=ORIGIN, client=("203.0.113.1", 40000)) as attacker:
        slowed = attempt(attacker, "sai mật khẩu")
        assert slowed.status_code == 429 and "làm chậm" in slowed.text and "giây." in slowed.text
    with TestClient(console_app, base_url=ORIGIN, client=("198.51.100.20", 40000), follow_redirects=False) as owner:
        assert attempt(owner, PASSWORD).status_code == 303


def test_logout_needs_csrf_and_ends_the_session(app_client: TestClient) -> None:
    make_user()
    token = login(app_client)
    refused = app_client.post("/console/logout", data={}, headers={"Origin": ORIGIN})
    assert refused.status_code == 403
    assert app_client.get("/console/").status_code == 200
    done = app_client.post("/console/logout", data={"csrf_token": token}, headers={"Origin": ORIGIN})
    assert done.status_code == 303
    with session_scope() as session:
        assert session.query(StaffSession).count() == 0
    assert app_client.get("/console/").status_code == 303


def test_without_the_throttle_s_redis_sign_in_is_refused_not_unlimited(app_client: TestClient) -> None:
    import redis

    from service.auth.throttle import LoginThrottle
    from service.console.security import login_throttle

    make_user()
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    app_client.app.dependency_overrides[login_throttle] = lambda: LoginThrottle(unreachable)  # type: ignore[attr-defined]
    page = app_client.get("/console/login")
    response = app_client.post(
        "/console/login",
        data={"username": "bientap", "password": PASSWORD, "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 503 and "Tạm thời không đăng nhập được" in response.text
    assert "bantin_console" not in app_client.cookies


def test_console_pages_link_the_sites_icon(app_client: TestClient) -> None:
    """The console names its icon (the site's fingerprinted SVG), so browsers do not guess /favicon.ico."""
    page = app_client.get("/console/login").text
    match = re.search(r'<link rel="icon" href="(/static/favicon\.svg\?v=[0-9a-f]+)" type="image/svg\+xml">', page)
    assert match is not None
    assert app_client.get(match.group(1)).status_code == 200
