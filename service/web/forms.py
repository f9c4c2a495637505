"""What public forms share, framework-free: the CSRF check.

CSRF (no session exists for an anonymous reader): a signed double-submit token. The
page sets a random cookie (``__Host-`` prefixed on HTTPS, HttpOnly, SameSite=Strict)
and puts HMAC(BANTIN_SECRET_KEY, "csrf"|cookie|expiry) in a hidden field; a POST must
bring both, matching, unexpired, and an ``Origin`` (or, without one, a ``Referer``) of
this site when the browser sends one. An attacker can neither read the cookie nor
sign a value of their own.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from config.settings import Settings
from service import links

CSRF_PURPOSE = "csrf"
CSRF_LIFETIME = timedelta(hours=4)
CSRF_FIELD = "csrf_token"


def csrf_cookie_name(settings: Settings) -> str:
    """The CSRF cookie's name: ``__Host-`` prefixed when the site is served over HTTPS."""
    # __Host-: only over HTTPS, no Domain, Path=/ (RFC 6265bis): a sibling subdomain cannot plant it.
    return "__Host-bantin_csrf" if settings.base_url.startswith("https://") else "bantin_csrf"


def new_csrf_cookie() -> str:
    """A fresh random CSRF cookie value (32 bytes, URL-safe base64)."""
    return secrets.token_urlsafe(32)


def csrf_token(settings: Settings, cookie: str, now: datetime) -> str:
    """The hidden field's value for the reader's cookie."""
    return links.sign(settings.secret_key.get_secret_value(), CSRF_PURPOSE, cookie, now + CSRF_LIFETIME)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def csrf_problem(
    settings: Settings, headers: Mapping[str, str], cookie: str | None, token: str | None, now: datetime
) -> str | None:
    """None when the POST may proceed, else why it may not (shown to the reader)."""
    site = _origin(settings.base_url)
    origin = headers.get("origin")
    referer = headers.get("referer")
    if origin and origin != "null" and _origin(origin) != site:
        return "the form was sent from another site"
    if not origin and referer and _origin(referer) != site:
        return "the form was sent from another site"
    if not cookie or not token:
        return "the form's security cookie is missing (are cookies allowed?)"
    state = links.verify(settings.secret_key.get_secret_value(), CSRF_PURPOSE, cookie, token, now)
    if state == "expired":
        return "the form expired"
    if state != "ok":
        return "the form's security token does not match"
    return None
