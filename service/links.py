"""Secrets in readers' links: hashed random tokens and HMAC-signed (purpose, subject, expiry).

Below every domain (no imports of ours): reader sign-ups, the preferences link every
announcement carries (``service.announcements.links``) and the public forms' CSRF
tokens all use it.

Confirmation links carry a token that is stored only as its SHA-256. The token is
HMAC(BANTIN_SECRET_KEY, salt) for a random 256-bit salt kept on the row: the mail is
rendered by a worker, possibly retried, without the token ever being written anywhere,
and a copy of the database alone confirms nothing.

Preferences links and the sign-up form's CSRF token are ``expiry.signature`` where the
signature is HMAC-SHA256 over ``purpose|subject|expiry``: a link made for one purpose
or one subscriber never opens another, and every check uses ``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, URL-safe base64 without padding
SIGNED = re.compile(r"^(\d{1,12})\.([A-Za-z0-9_-]{43})$")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_salt() -> str:
    """A random 32-byte salt (hex) from which a confirmation token is derived with the secret key."""
    return secrets.token_hex(32)


def token_from_salt(secret: str, salt: str) -> str:
    """The confirmation link's token for a row's salt (43 URL-safe characters)."""
    return _b64(hmac.new(secret.encode(), b"confirm|" + salt.encode(), hashlib.sha256).digest())


def token_hash(token: str) -> str:
    """SHA-256 hex of a token: what the database stores and looks up."""
    return hashlib.sha256(token.encode()).hexdigest()


def _signature(secret: str, purpose: str, subject: str, expires: int) -> str:
    message = f"{purpose}|{subject}|{expires}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def sign(secret: str, purpose: str, subject: str, expires_at: datetime) -> str:
    """``expiry.signature`` for ``subject`` and ``purpose``, valid until ``expires_at`` (aware)."""
    expires = int(expires_at.timestamp())
    return f"{expires}.{_signature(secret, purpose, subject, expires)}"


def verify(secret: str, purpose: str, subject: str, signed: str, now: datetime) -> str:
    """``ok``, ``expired`` (a genuine signature past its expiry) or ``invalid``."""
    match = SIGNED.match(signed or "")
    if not match:
        return "invalid"
    expires = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _signature(secret, purpose, subject, expires)):
        return "invalid"
    return "ok" if now.timestamp() < expires else "expired"
