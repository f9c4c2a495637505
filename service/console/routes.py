"""Console pages: sign in and out, the dashboard, the article list, static files. Thin: parse
the form, call the domain function the API calls, render or redirect. Changing an article
is service.console.editor's; reviewing it, service.console.review_pages'."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Annotated

import redis
from fastapi import Depends, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from config.settings import get_settings
from service import clock
from service.articles.review import review_queue
from service.articles.service import list_articles
from service.auth.sessions import csrf_matches, end_session, purge_idle_sessions, start_session
from service.auth.throttle import LoginThrottle
from service.auth.users import authenticate
from service.calendar.service import upcoming
from service.console.common import THROTTLE_DOWN_MESSAGE, console_router, html_page, safe_next, see_other
from service.console.forms import filter_error
from service.console.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    CsrfRefused,
    CurrentUser,
    clear_session_cookie,
    client_address,
    login_throttle,
    new_login_csrf,
    origin_allowed,
    posted_form,
    set_login_csrf_cookie,
    set_session_cookie,
)
from service.console.templating import STATIC, render
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus, Category
from service.db.types import utcnow
from service.deliveries.queries import delivery_health
from service.errors import NotFound
from service.i18n import gettext

log = logging.getLogger(__name__)
PAGE_SIZE = 25
UPCOMING_DAYS = 60


router = console_router()


# ---- sign in / out ---------------------------------------------------------------------------


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
    """Sign in: Origin and double-submit checks, the shared throttle, then the password."""
    if not origin_allowed(request) or not csrf_matches(
        request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("login_csrf")
    ):
        raise CsrfRefused()
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_path = safe_next(form.get("next"))
    address = client_address(request)

    try:
        refusal = throttle.check(username, address)
    except redis.RedisError:
        # Without the shared counters a password guesser would be unlimited: refuse, say why.
        log.exception("sign-in refused: the throttle's Redis is unreachable")
        return _login_form(next_path, username, gettext(THROTTLE_DOWN_MESSAGE), 503)
    if refusal is not None:
        return _login_form(
            next_path,
            username,
            gettext(
                "Đăng nhập sai quá nhiều lần. Vì an toàn, việc đăng nhập tạm bị khóa; "
                "hãy thử lại sau %(minutes)s phút.",
                minutes=refusal.retry_after_minutes,
            ),
            429,
        )
    with session_scope() as session:
        user = authenticate(session, username, password, utcnow())
        raw = start_session(session, user, utcnow()) if user is not None else None
        if user is not None:
            # A new session id at every sign-in (no fixation); the old one, if any, ends,
            # and so do sessions anyone left idle past the limit.
            end_session(session, request.cookies.get(SESSION_COOKIE))
            purge_idle_sessions(session, utcnow())
    if raw is None:
        throttle.record_failure(username, address)
        return _login_form(next_path, username, gettext("Tên đăng nhập hoặc mật khẩu không đúng."), 401)
    throttle.record_success(username, address)
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


# ---- dashboard -------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(user: CurrentUser) -> Response:
    """The start page: the review queue, latest and scheduled articles, delivery health of the last
    24 hours (linked to the log for admins), anniversaries of the next UPCOMING_DAYS days."""
    settings = get_settings()
    today = clock.now(settings).astimezone(settings.zone).date()
    with session_scope() as session:
        latest, total = list_articles(session, limit=10)
        scheduled = list(
            session.scalars(
                select(Article)
                .where(Article.status == ArticleStatus.SCHEDULED)
                .order_by(Article.publish_at, Article.id)
                .limit(20)
            )
        )
        anniversaries = [o for o, _ in upcoming(session, today, UPCOMING_DAYS)]
        return html_page(
            "dashboard.html",
            user,
            health=delivery_health(session, utcnow()),
            queue=review_queue(session, limit=20),
            latest=latest,
            total=total,
            scheduled=scheduled,
            anniversaries=anniversaries,
            today=today,
            days=UPCOMING_DAYS,
        )


# ---- articles --------------------------------------------------------------------------------


@router.get("/articles", response_class=HTMLResponse)
def articles(
    user: CurrentUser,
    q: str = "",
    status: str = "",
    category: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The article list, PAGE_SIZE a page, filtered by search text, status and category slug.

    An unknown status or category is a 422: the form again with the message by that filter, no list.
    """
    with session_scope() as session:
        categories = list(session.scalars(select(Category).order_by(Category.name)))
        errors = {
            name: error
            for name, error in (
                ("status", filter_error(status, {s.value for s in ArticleStatus})),
                ("category", filter_error(category, {c.slug for c in categories})),
            )
            if error
        }
        chosen_status = ArticleStatus(status) if status and "status" not in errors else None
        rows: list[Article] = []
        total = 0
        if not errors:
            rows, total = list_articles(
                session,
                status=chosen_status,
                category_slug=category or None,
                search=q or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        return html_page(
            "articles.html",
            user,
            status_code=422 if errors else 200,
            errors=errors,
            rows=rows,
            total=total,
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            q=q,
            status=status,
            category=category,
            categories=categories,
            statuses=list(ArticleStatus),
        )


# ---- static files ------------------------------------------------------------------------------

STATIC_MAX_AGE = timedelta(days=1)


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    """The console's CSS, JS and the vendored editor; no CDN, so it works on an intranet."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        raise NotFound(path)
    return FileResponse(target, headers={"Cache-Control": f"public, max-age={int(STATIC_MAX_AGE.total_seconds())}"})
