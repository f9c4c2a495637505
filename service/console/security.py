"""Who is asking, and whether a state-changing request really comes from our own form.

Every unsafe request passes two checks, in the order Django's CsrfViewMiddleware uses:
the ``Origin`` header (or, without one, ``Referer``) must be this site, then the form's
``csrf_token`` must equal the session's token (constant-time compare). The sign-in form
has no session yet; it carries a random value that must equal a cookie set with the
form (double submit), on top of the Origin check.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

import redis
from fastapi import Depends, Request, Response

from config.settings import get_settings
from service.articles.editorial import Actor, person
from service.auth.sessions import SignedIn, csrf_matches, resume_session
from service.auth.throttle import LoginThrottle
from service.auth.two_factor import required
from service.db.engine import session_scope
from service.db.models import UserRole
from service.db.types import utcnow
from service.links import sign, verify

SESSION_COOKIE = "bantin_console"
LOGIN_CSRF_COOKIE = "bantin_login_csrf"
# Between a right password and the code: which user, signed, for SECOND_FACTOR_SECONDS.
SECOND_FACTOR_COOKIE = "bantin_second_factor"
SECOND_FACTOR_SECONDS = 300
_SECOND_FACTOR = "console-second-factor"
CONSOLE_PATH = "/console/"


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class EnrolmentRequired(Exception):
    """The role must sign in with a second factor and this user has none yet: enrol first."""


# The pages a user who must enrol can still reach (the rest send them to the first).
ENROLMENT_PATHS = frozenset({"/console/account/two-factor", "/console/account/two-factor/start", "/console/logout"})


class CsrfRefused(Exception):
    """The request did not come from our form; 403, nothing changed."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this."""


def cookie_is_secure() -> bool:
    """True when BANTIN_BASE_URL is https, so the console's cookies carry the Secure attribute."""
    return get_settings().base_url.startswith("https://")


def set_session_cookie(response: Response, raw: str) -> None:
    """Set the session cookie to the raw token: HttpOnly, SameSite=Lax, path /console, Secure over https."""
    response.set_cookie(SESSION_COOKIE, raw, httponly=True, samesite="lax", secure=cookie_is_secure(), path="/console")


def clear_session_cookie(response: Response) -> None:
    """Expire the session cookie, with the attributes it was set with so that browsers match it."""
    response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="lax", secure=cookie_is_secure())


def new_login_csrf() -> str:
    """A random 256-bit URL-safe value for the sign-in form's double-submit check."""
    return secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, token: str) -> None:
    """Set the sign-in form's double-submit cookie: HttpOnly, SameSite=Strict, path /console, Secure over https."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cookie_is_secure(), path="/console"
    )


def set_second_factor_cookie(response: Response, user_id: int, now: datetime) -> None:
    """The password was right: ``<user id>.<expiry>.<HMAC>`` until the code is typed (HttpOnly,
    SameSite=Strict, path /console). It proves the password only; the code still has to come."""
    secret = get_settings().secret_key.get_secret_value()
    signed = sign(secret, _SECOND_FACTOR, str(user_id), now + timedelta(seconds=SECOND_FACTOR_SECONDS))
    response.set_cookie(
        SECOND_FACTOR_COOKIE,
        f"{user_id}.{signed}",
        max_age=SECOND_FACTOR_SECONDS,
        httponly=True,
        samesite="strict",
        secure=cookie_is_secure(),
        path="/console",
    )


def second_factor_user(request: Request, now: datetime) -> int | None:
    """The user whose password was right a moment ago in this browser, or None (no cookie,
    forged, or older than SECOND_FACTOR_SECONDS)."""
    user_id, _, signed = request.cookies.get(SECOND_FACTOR_COOKIE, "").partition(".")
    if not user_id.isdigit() or len(user_id) > 18:
        return None
    secret = get_settings().secret_key.get_secret_value()
    return int(user_id) if verify(secret, _SECOND_FACTOR, user_id, signed, now) == "ok" else None


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(request: Request) -> bool:
    """Origin (or Referer when a browser sent no Origin) names this site: BANTIN_BASE_URL or the Host asked for."""
    sent = request.headers.get("origin")
    if sent is None or sent == "null":
        referer = request.headers.get("referer")
        sent = _origin_of(referer) if referer else None
    if not sent:
        return False
    allowed = {_origin_of(get_settings().base_url)}
    host = request.headers.get("host")
    if host:
        allowed.add(f"{request.url.scheme}://{host}".lower())
    return sent.lower().rstrip("/") in allowed


def signed_in(request: Request) -> SignedIn:
    """The user behind the session cookie; LoginRequired (→ redirect to sign in) otherwise."""
    with session_scope() as session:
        user = resume_session(session, request.cookies.get(SESSION_COOKIE), utcnow())
        must_enrol = (
            user is not None
            and not user.two_factor
            and request.url.path not in ENROLMENT_PATHS
            and required(session, user.role, get_settings())
        )
    if user is None:
        raise LoginRequired(request.url.path)
    if must_enrol:
        raise EnrolmentRequired()
    return user


CurrentUser = Annotated[SignedIn, Depends(signed_in)]


async def posted_form(request: Request) -> dict[str, str]:
    """The url-encoded or multipart form as text fields (files are not part of these forms)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def checked_form(
    request: Request, user: CurrentUser, form: Annotated[dict[str, str], Depends(posted_form)]
) -> dict[str, str]:
    """The form of a state-changing request, after the Origin and synchroniser-token checks."""
    if not origin_allowed(request) or not csrf_matches(user.csrf_token, form.get("csrf_token")):
        raise CsrfRefused()
    return form


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


def ticked(name: str) -> Callable[[Request], Awaitable[list[str]]]:
    """A dependency: the values of the posted form's repeated field ``name`` (ticked boxes),
    which CheckedForm's one value per name cannot carry; the form is parsed once and cached."""

    async def values(request: Request) -> list[str]:
        form = await request.form()
        return [value for value in form.getlist(name) if isinstance(value, str)]

    return values


# The article editor's ticked existing categories (service.console.forms.ArticleForm.chosen).
PostedCategories = Annotated[list[str], Depends(ticked("category"))]


def editorial_actor(user: SignedIn) -> Actor:
    """The signed-in user as the editorial policy sees them (decision 0026): editors and
    admins publish, schedule, withdraw and review; writers keep drafts and submit them,
    unless BANTIN_REVIEW_REQUIRED=false lets them publish too."""
    return person(user.username, user.role, get_settings())


def can_administer(user: SignedIn) -> bool:
    """Admins only: subscribers, their secrets and the delivery log (the API asks the ``admin`` scope for them)."""
    return user.role == UserRole.ADMIN


def admin_user(user: CurrentUser) -> SignedIn:
    """The signed-in user when an admin; Forbidden (an HTML 403) for editors and writers."""
    if not can_administer(user):
        raise Forbidden()
    return user


AdminUser = Annotated[SignedIn, Depends(admin_user)]


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().effective_redis_url, socket_timeout=5)


def login_throttle() -> LoginThrottle:
    """The shared throttle (the deployment's Redis); tests override this dependency."""
    return LoginThrottle(_redis())
