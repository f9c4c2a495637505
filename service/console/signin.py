"""Signing in and out of the console: the form, the shared throttle (decision 0028), sessions.

The throttle counts an attempt before the password is checked; a refusal says why and
when to try again (and sends ``Retry-After``), in the request's language.
"""

from __future__ import annotations

import logging
from typing import Annotated

import redis
from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from service.auth.sessions import csrf_matches, end_session, purge_idle_sessions, start_session
from service.auth.throttle import LoginThrottle, Refusal
from service.auth.users import authenticate
from service.console.common import THROTTLE_DOWN_MESSAGE, console_router, safe_next, see_other
from service.console.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    CsrfRefused,
    clear_session_cookie,
    login_throttle,
    new_login_csrf,
    origin_allowed,
    posted_form,
    set_login_csrf_cookie,
    set_session_cookie,
)
from service.console.templating import render
from service.db.engine import session_scope
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
    token = new_login_csrf()
    body = render("login.html", user=None, flash=[], login_csrf=token, next=next_path, username=username, error=error)
    response = HTMLResponse(body, status_code=status_code)
    set_login_csrf_cookie(response, token)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    form: Annotated[dict[str, str], Depends(posted_form)],
    throttle: Annotated[LoginThrottle, Depends(login_throttle)],
) -> Response:
    """Sign in: Origin and double-submit checks, the shared throttle (the attempt counted), then the password."""
    if not origin_allowed(request) or not csrf_matches(
        request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("login_csrf")
    ):
        raise CsrfRefused()
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_path = safe_next(form.get("next"))
    address = client_of(request)

    try:
        refusal = throttle.admit(username, address)
    except redis.RedisError:
        # Without the shared counters a password guesser would be unlimited: refuse, say why.
        log.exception("sign-in refused: the throttle's Redis is unreachable")
        return _login_form(next_path, username, gettext(THROTTLE_DOWN_MESSAGE), 503)
    if refusal is not None:
        # OWASP: every refusal is logged (the client is on the line; the username never is).
        log.warning("sign-in refused by the throttle (%s) for %d s", refusal.reason, refusal.retry_after_seconds)
        response = _login_form(next_path, username, refusal_message(refusal), 429)
        response.headers["Retry-After"] = str(refusal.retry_after_seconds)
        return response
    with session_scope() as session:
        user = authenticate(session, username, password, utcnow())
        raw = start_session(session, user, utcnow()) if user is not None else None
        if user is not None:
            # A new session id at every sign-in (no fixation); the old one, if any, ends,
            # and so do sessions anyone left idle past the limit.
            end_session(session, request.cookies.get(SESSION_COOKIE))
            purge_idle_sessions(session, utcnow())
    if raw is None:
        log.info("sign-in failed: wrong username or password")
        return _login_form(next_path, username, gettext(WRONG), 401)
    try:
        throttle.succeeded(username, address)
    except redis.RedisError:
        # The password was right: the count stays one too high until its window ends.
        log.warning("a successful sign-in could not be taken off the throttle's counts")
    response = see_other(next_path)
    set_session_cookie(response, raw)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, _: CheckedForm) -> Response:
    """Sign out: the session ends, its cookie is cleared, 303 to the sign-in page."""
    with session_scope() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE))
    response = see_other("/console/login")
    clear_session_cookie(response)
    return response
