"""Signing in and out of the console: the form, the shared throttle (decision 0028), sessions.

The throttle counts an attempt before the password is checked; a refusal says why and
when to try again (and sends ``Retry-After``), in the request's language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

import redis
from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from service.auth.sessions import csrf_matches, end_session, purge_idle_sessions, sign_out, start_session
from service.auth.throttle import LoginThrottle, Refusal
from service.auth.two_factor import enrolled
from service.auth.users import authenticate
from service.console.common import THROTTLE_DOWN_MESSAGE, console_router, safe_next, see_other
from service.console.security import (
    LOGIN_CSRF_COOKIE,
    SECOND_FACTOR_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    CsrfRefused,
    clear_session_cookie,
    login_throttle,
    new_login_csrf,
    origin_allowed,
    posted_form,
    set_login_csrf_cookie,
    set_second_factor_cookie,
    set_session_cookie,
)
from service.console.templating import render
from service.db.engine import session_scope
from service.db.models import User
from service.db.types import utcnow
from service.i18n import N_, gettext, ngettext
from service.web.client import client_of

log = logging.getLogger(__name__)
router = console_router()

# Why an attempt was refused, by the throttle's reason; the same words whether or not the
# account exists (OWASP: no answer may tell which usernames are real).
REFUSED = {
    "pair": N_("Đã nhập sai mật khẩu của tài khoản này quá nhiều lần từ địa chỉ mạng của bạn."),
    "client": N_("Có quá nhiều lần đăng nhập sai từ địa chỉ mạng của bạn."),
    "account": N_("Tài khoản này vừa bị nhập sai mật khẩu nhiều lần nên việc đăng nhập đang được làm chậm lại."),
}
WRONG = N_("Tên đăng nhập hoặc mật khẩu không đúng.")


def refusal_message(refusal: Refusal) -> str:
    """Why, then when to try again: in seconds under a minute, else in whole minutes (rounded up)."""
    if refusal.retry_after_seconds < 60:
        when = ngettext("Hãy thử lại sau %(num)s giây.", "Hãy thử lại sau %(num)s giây.", refusal.retry_after_seconds)
    else:
        when = ngettext("Hãy thử lại sau %(num)s phút.", "Hãy thử lại sau %(num)s phút.", refusal.retry_after_minutes)
    return f"{gettext(REFUSED[refusal.reason])} {when}"


@router.get("/login", response_class=HTMLResponse)
def loginpage(next_: Annotated[str | None, Query(alias="next")] = None) -> Response:
    """The sign-in form, with a fresh double-submit cookie; ``next`` (a /console/ page only) is where sign-in leads."""
    return _login_form(safe_next(next_), "", None, 200)


def _login_form(next_path: str, username: str, error: str | None, status_code: int) -> Response:
    return login_step_page("login.html", status_code, next=next_path, username=username, error=error)


def login_step_page(template: str, status_code: int, **context: Any) -> Response:
    """A page of a sign-in step (password or code), with a fresh double-submit token and its cookie."""
    token = new_login_csrf()
    body = render(template, user=None, flash=[], login_csrf=token, **context)
    response = HTMLResponse(body, status_code=status_code)
    set_login_csrf_cookie(response, token)
    return response


def check_login_form(request: Request, form: dict[str, str]) -> None:
    """A sign-in step's form came from our page: Origin and the double-submit token; CsrfRefused otherwise."""
    if not origin_allowed(request) or not csrf_matches(
        request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("login_csrf")
    ):
        raise CsrfRefused()


def throttled(
    throttle: LoginThrottle, username: str, address: str, page: Callable[[str, int], Response]
) -> Response | None:
    """Count this attempt (decision 0028) and let it proceed (None), or the ``page`` (message,
    status) that refuses it: 429 with Retry-After, or 503 when Redis does not answer."""
    try:
        refusal = throttle.admit(username, address)
    except redis.RedisError:
        # Without the shared counters a guesser would be unlimited: refuse, say why.
        log.exception("sign-in refused: the throttle's Redis is unreachable")
        return page(gettext(THROTTLE_DOWN_MESSAGE), 503)
    if refusal is None:
        return None
    # OWASP: every refusal is logged (the client is on the line; the username never is).
    log.warning("sign-in refused by the throttle (%s) for %d s", refusal.reason, refusal.retry_after_seconds)
    response = page(refusal_message(refusal), 429)
    response.headers["Retry-After"] = str(refusal.retry_after_seconds)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    form: Annotated[dict[str, str], Depends(posted_form)],
    throttle: Annotated[LoginThrottle, Depends(login_throttle)],
) -> Response:
    """Sign in: Origin and double-submit checks, the shared throttle (the attempt counted), then the password."""
    check_login_form(request, form)
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_path = safe_next(form.get("next"))
    address = client_of(request)
    refused = throttled(
        throttle, username, address, lambda error, status: _login_form(next_path, username, error, status)
    )
    if refused is not None:
        return refused
    with session_scope() as session:
        user = authenticate(session, username, password, utcnow())
        if user is None:
            raw = None
        elif enrolled(user):
            # The password alone signs nobody in: the attempt stays counted by the throttle
            # until the code is right too (service.console.two_factor).
            response = see_other(f"/console/login/code?{urlencode({'next': next_path})}")
            set_second_factor_cookie(response, user.id, utcnow())
            return response
        else:
            raw = signed_in_now(session, request, user)
    if raw is None:
        log.info("sign-in failed: wrong username or password")
        return _login_form(next_path, username, gettext(WRONG), 401)
    return finish_sign_in(throttle, username, address, raw, next_path)


def signed_in_now(session: Session, request: Request, user: User) -> str:
    """A new session for ``user``; the raw token for the cookie. A new session id at every
    sign-in (no fixation): the browser's old one ends, and so do sessions left idle past the limit."""
    raw = start_session(session, user, utcnow())
    end_session(session, request.cookies.get(SESSION_COOKIE))
    purge_idle_sessions(session, utcnow())
    return raw


def finish_sign_in(throttle: LoginThrottle, username: str, address: str, raw: str, next_path: str) -> Response:
    """Take the attempt off the throttle's counts, set the session cookie, 303 to ``next_path``."""
    try:
        throttle.succeeded(username, address)
    except redis.RedisError:
        # The password was right: the count stays one too high until its window ends.
        log.warning("a successful sign-in could not be taken off the throttle's counts")
    response = see_other(next_path)
    set_session_cookie(response, raw)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    response.delete_cookie(SECOND_FACTOR_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, _: CheckedForm) -> Response:
    """Sign out: the session ends, its cookie is cleared, 303 to the sign-in page."""
    with session_scope() as session:
        sign_out(session, request.cookies.get(SESSION_COOKIE), utcnow())
    response = see_other("/console/login")
    clear_session_cookie(response)
    return response
