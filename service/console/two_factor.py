"""Console: the second factor (service/auth/two_factor.py) — the code after the password,
enrolment with a QR code, and an admin's reset of a lost device.

The code step is throttled like the password (decision 0028): each attempt is counted for
(account, client) before the code is checked, and the password's own attempt stays counted
until the code is right, so guessing codes costs what guessing passwords does. Only a
right code starts a session (a new one: nothing from before the sign-in carries over).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from config.settings import get_settings
from service.audit.log import record
from service.auth import two_factor
from service.auth.sessions import SignedIn, push_flash
from service.auth.throttle import LoginThrottle
from service.auth.users import list_users
from service.console.common import console_router, html_page, safe_next, see_other
from service.console.security import (
    AdminUser,
    CheckedForm,
    CurrentUser,
    login_throttle,
    posted_form,
    second_factor_user,
    ticked,
)
from service.console.signin import check_login_form, finish_sign_in, login_step_page, signed_in_now, throttled
from service.db.engine import session_scope
from service.db.models import User, UserRole
from service.db.types import utcnow
from service.errors import InvalidField
from service.i18n import N_, gettext
from service.web.client import client_of
from service.web.refusals import words

log = logging.getLogger(__name__)
router = console_router()
WRONG_CODE = N_("Mã không đúng hoặc đã được dùng. Hãy nhập mã đang hiện trong ứng dụng xác thực, hoặc một mã dự phòng.")
EXPIRED = N_("Phiên đăng nhập đã quá 5 phút; hãy nhập lại mật khẩu.")


def _code_form(next_path: str, error: str | None, status_code: int) -> Response:
    return login_step_page("login_code.html", status_code, next=next_path, error=error)


@router.get("/login/code", response_class=HTMLResponse)
def code_page(request: Request, next_: Annotated[str | None, Query(alias="next")] = None) -> Response:
    """The code form, after a right password (within SECOND_FACTOR_SECONDS); else back to the password."""
    if second_factor_user(request, utcnow()) is None:
        return see_other("/console/login")
    return _code_form(safe_next(next_), None, 200)


@router.post("/login/code", response_class=HTMLResponse)
def code(
    request: Request,
    form: Annotated[dict[str, str], Depends(posted_form)],
    throttle: Annotated[LoginThrottle, Depends(login_throttle)],
) -> Response:
    """The second factor: a TOTP code or a recovery code; a right one starts a new session."""
    check_login_form(request, form)
    next_path = safe_next(form.get("next"))
    user_id = second_factor_user(request, utcnow())
    if user_id is None:
        return _expired(next_path)
    with session_scope() as session:
        user = session.get(User, user_id)
        username = user.username if user is not None and user.active else None
    if username is None:
        return _expired(next_path)
    address = client_of(request)
    refused = throttled(throttle, username, address, lambda error, status: _code_form(next_path, error, status))
    if refused is not None:
        return refused
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        raw = None
        if two_factor.check_code(session, user, form.get("code", ""), utcnow()):
            raw = signed_in_now(session, request, user)
        else:
            record(session, "sign_in.two_factor_failed", "user", user.id, None, {"username": username})
    if raw is None:
        log.info("sign-in failed: wrong or reused second-factor code")
        return _code_form(next_path, gettext(WRONG_CODE), 401)
    return finish_sign_in(throttle, username, address, raw, next_path)


def _expired(next_path: str) -> Response:
    return login_step_page("login.html", 401, next=next_path, username="", error=gettext(EXPIRED))


# ---- enrolment ---------------------------------------------------------------------------------


@router.get("/account/two-factor", response_class=HTMLResponse)
def enrolment(user: CurrentUser) -> Response:
    """Enrolment: the QR code and the secret as text, and the field for the first code; or,
    once enrolled, since when."""
    return _enrolment(user, None, 200)


def _enrolment(user: SignedIn, error: str | None, status_code: int) -> Response:
    settings = get_settings()
    with session_scope() as session:
        row = session.get(User, user.user_id)
        assert row is not None
        if two_factor.enrolled(row):
            return html_page("two_factor.html", user, enabled_at=row.totp_enabled_at)
        secret = two_factor.pending_secret(session, row) if row.totp_pending_secret is not None else None
        required = two_factor.required(session, user.role, settings)
    if secret is None:  # GET changes nothing: the secret is made by the start button's POST
        return html_page("two_factor.html", user, enabled_at=None, secret=None, required=required)
    uri = two_factor.provisioning_uri(secret, user.username, settings.site_title)
    return html_page(
        "two_factor.html",
        user,
        status_code=status_code,
        enabled_at=None,
        qr=Markup(two_factor.qr_svg(uri)),  # noqa: S704 - segno's SVG of our own URI
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=required,
        error=error,
    )


@router.post("/account/two-factor/start", response_class=HTMLResponse)
def start(user: CurrentUser, _: CheckedForm) -> Response:
    """Make the secret to enrol with (kept as pending until a code from it is typed back); 303 to the QR code."""
    with session_scope() as session:
        row = session.get(User, user.user_id)
        assert row is not None
        if not two_factor.enrolled(row):
            two_factor.pending_secret(session, row)
    return see_other("/console/account/two-factor")


@router.post("/account/two-factor", response_class=HTMLResponse)
def confirm(user: CurrentUser, form: CheckedForm) -> Response:
    """The first code from the app: two-factor sign-in is on, and the recovery codes are shown, once."""
    try:
        with session_scope() as session:
            row = session.get(User, user.user_id)
            assert row is not None
            codes = two_factor.confirm(session, row, form.get("code", ""), utcnow())
    except InvalidField as error:
        return _enrolment(user, words(error.code, error.params, error.message), 422)
    return html_page("two_factor_codes.html", user, codes=codes)


# ---- an admin's reset --------------------------------------------------------------------------


@router.get("/users", response_class=HTMLResponse)
def users(user: AdminUser) -> Response:
    """Staff accounts with their role and whether they sign in with a code, and which roles
    must (admins only)."""
    settings = get_settings()
    with session_scope() as session:
        roles = two_factor.required_roles(session, settings)
        rows = [(u, two_factor.enrolled(u), u.role in roles) for u in list_users(session)]
        return html_page(
            "users.html",
            user,
            rows=rows,
            required_roles=roles,
            fixed_roles=settings.two_factor_roles,
            roles=list(UserRole),
        )


@router.post("/users/two-factor-policy", response_class=HTMLResponse)
def policy(user: AdminUser, _: CheckedForm, ticked: Annotated[list[str], Depends(ticked("role"))]) -> Response:
    """The roles that must sign in with a second factor (ticked boxes; the setting's roles
    stay required whatever is posted). Audited; their members enrol at their next request."""
    known = {role.value for role in UserRole}
    chosen = {role for role in ticked if role in known} - get_settings().two_factor_roles
    with session_scope() as session:
        two_factor.require_roles(session, chosen, user.username, utcnow())
        push_flash(session, user.session_id, gettext("Đã lưu các vai trò phải dùng xác thực hai bước."))
    return see_other("/console/users")


@router.post("/users/{username}/two-factor/reset", response_class=HTMLResponse)
def reset(username: str, user: AdminUser, _: CheckedForm) -> Response:
    """A lost device: the account's secret and recovery codes go, its sessions end (audited)."""
    with session_scope() as session:
        two_factor.reset(session, username, utcnow())
        push_flash(session, user.session_id, gettext("Đã đặt lại xác thực hai bước của %(name)s.", name=username))
    return see_other("/console/users")
