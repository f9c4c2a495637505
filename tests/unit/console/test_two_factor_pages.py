"""The console's second factor: a role that must use it is sent to enrolment from every page;
the code step is throttled like the password (decision 0028) and starts the session only
when the code is right."""

from __future__ import annotations

import re

import pyotp
import pytest
from fastapi.testclient import TestClient

from config.settings import get_settings
from service.auth import two_factor
from service.auth.users import get_user
from service.db.engine import session_scope
from service.db.types import utcnow
from tests.unit.console.conftest import ORIGIN, PASSWORD, hidden, login, make_user
from tests.unit.console.conftest import post_form as post


def enrol(username: str) -> str:
    with session_scope() as session:
        user = get_user(session, username)
        secret = two_factor.pending_secret(session, user)
        two_factor.confirm(session, user, pyotp.TOTP(secret).now(), utcnow())
        return secret


def password_step(client: TestClient, username: str) -> None:
    page = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD, "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login/code")
    assert "bantin_console" not in answer.cookies  # no session before the code


def code_step(client: TestClient, code: str) -> int:
    page = client.get("/console/login/code")
    answer = client.post(
        "/console/login/code",
        data={"code": code, "login_csrf": hidden(page.text, "login_csrf"), "next": "/console/"},
        headers={"Origin": ORIGIN},
    )
    status: int = answer.status_code
    return status


def test_a_role_that_must_use_it_is_sent_to_enrolment_until_it_does(
    app_client: TestClient, settings_override: pytest.MonkeyPatch
) -> None:
    settings_override.setenv("BANTIN_TWO_FACTOR_ROLES_REQUIRED", "editor")
    make_user("bientap", "editor")
    page = app_client.get("/console/login")
    app_client.post(
        "/console/login",
        data={"username": "bientap", "password": PASSWORD, "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    for path in ("/console/", "/console/articles", "/console/articles/new"):
        answer = app_client.get(path)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/console/account/two-factor")
    intro = app_client.get("/console/account/two-factor")
    assert intro.status_code == 200 and "<svg" not in intro.text  # GET makes no secret
    started = post(app_client, "/console/account/two-factor/start", hidden(intro.text, "csrf_token"))
    assert (started.status_code, started.headers["location"]) == (303, "/console/account/two-factor")
    enrolment = app_client.get("/console/account/two-factor")
    assert enrolment.status_code == 200 and "<svg" in enrolment.text
    secret = re.sub(r"\s", "", re.search(r'id="secret">([^<]+)<', enrolment.text).group(1))  # type: ignore[union-attr]
    token = hidden(enrolment.text, "csrf_token")
    wrong = post(app_client, "/console/account/two-factor", token, {"code": "12345"})
    assert wrong.status_code == 422 and 'id="code-error"' in wrong.text
    done = post(app_client, "/console/account/two-factor", token, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and done.text.count("<li><code>") == two_factor.RECOVERY_CODES
    assert app_client.get("/console/").status_code == 200


def test_guessing_codes_is_throttled_like_passwords(app_client: TestClient) -> None:
    make_user("bientap", "editor")
    secret = enrol("bientap")
    password_step(app_client, "bientap")
    right = pyotp.TOTP(secret).now()
    wrong = "000000" if right != "000000" else "111111"
    statuses = [code_step(app_client, wrong) for _ in range(5)]
    # The password's attempt is still counted (5 for this account and address in all), so the
    # fifth code is refused before it is checked, and so is the right one now.
    assert statuses == [401, 401, 401, 401, 429]
    assert code_step(app_client, right) == 429


def test_without_a_right_password_first_there_is_no_code_step(app_client: TestClient) -> None:
    make_user("bientap", "editor")
    enrol("bientap")
    assert app_client.get("/console/login/code").headers["location"] == "/console/login"
    login_csrf = hidden(app_client.get("/console/login").text, "login_csrf")
    answer = app_client.post(
        "/console/login/code", data={"code": "123456", "login_csrf": login_csrf}, headers={"Origin": ORIGIN}
    )
    assert answer.status_code == 401 and "bantin_console" not in answer.cookies
    # A cookie that claims the password step without its signature is not one.
    forged = "1.9999999999." + "A" * 43
    answer = app_client.get("/console/login/code", headers={"Cookie": f"bantin_second_factor={forged}"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")


def test_an_admin_requires_it_for_a_role_in_the_console_above_the_setting(
    app_client: TestClient, settings_override: pytest.MonkeyPatch
) -> None:
    settings_override.setenv("BANTIN_TWO_FACTOR_ROLES_REQUIRED", "writer")
    make_user("quantri", "admin")
    make_user("bientap", "editor")
    token = login(app_client, "quantri")
    page = app_client.get("/console/users")
    assert page.status_code == 200
    assert 'id="role-writer" checked disabled' in page.text  # the setting's role cannot be untaken here
    assert 'name="role" value="editor">' in page.text  # not required yet
    # "writer" posted or not, the setting keeps it; an unknown role is ignored.
    saved = post(app_client, "/console/users/two-factor-policy", token, {"role": ["editor", "boss"]})
    assert (saved.status_code, saved.headers["location"]) == (303, "/console/users")
    after = app_client.get("/console/users").text
    assert 'name="role" value="editor" checked>' in after and 'name="role" value="admin">' in after
    with session_scope() as session:
        roles = two_factor.required_roles(session, get_settings())
    assert roles == {"writer", "editor"}
    editor = TestClient(app_client.app, base_url=ORIGIN, follow_redirects=False)
    page = editor.get("/console/login")
    editor.post(
        "/console/login",
        data={"username": "bientap", "password": PASSWORD, "login_csrf": hidden(page.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    sent = editor.get("/console/articles", follow_redirects=False)
    assert (sent.status_code, sent.headers.get("location")) == (303, "/console/account/two-factor")
    enrolment = editor.get("/console/account/two-factor").text
    refused = post(editor, "/console/users/two-factor-policy", hidden(enrolment, "csrf_token"), {})
    assert refused.status_code in (303, 403) and refused.headers.get("location") != "/console/users"
    with session_scope() as session:
        assert two_factor.required_roles(session, get_settings()) == {"writer", "editor"}
