"""Create, verify, list and revoke staff API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import ApiToken
from service.errors import InvalidField, NotFound
from service.text import clean_line

TOKEN_PREFIX = "btn_"  # noqa: S105 - a public prefix that makes leaked tokens greppable, not a secret


class Scope(enum.StrEnum):
    # A writer's token: drafts, and submitting them for review; never publishes.
    WRITE = "write"
    PUBLISH = "publish"
    ADMIN = "admin"


LAST_USED_PRECISION = timedelta(minutes=5)

# admin implies publish, publish implies write.
IMPLIED_SCOPES = {
    Scope.ADMIN: {Scope.ADMIN, Scope.PUBLISH, Scope.WRITE},
    Scope.PUBLISH: {Scope.PUBLISH, Scope.WRITE},
    Scope.WRITE: {Scope.WRITE},
}


def hash_token(raw: str) -> str:
    """Hex SHA-256 of a raw token, as stored; 256 random bits need no salt or stretching."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, scopes: list[str], now: datetime) -> tuple[ApiToken, str]:
    """A new token named ``name`` with ``scopes`` ("write", "publish", "admin").

    Returns the row and the raw secret (``btn_`` + 43 URL-safe characters), which is shown
    once and never stored. InvalidField("name") for an empty name, InvalidField("scope") for
    an unknown scope or none.
    """
    name = clean_line(name)
    if not name:
        raise InvalidField("name", "must not be empty")
    try:
        parsed = sorted({Scope(s) for s in scopes})
    except ValueError:
        raise InvalidField("scope", f"must be one of {', '.join(s.value for s in Scope)}") from None
    if not parsed:
        raise InvalidField("scope", "at least one scope is required")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(raw), scopes=[s.value for s in parsed], created_at=now)
    session.add(token)
    session.flush()
    return token, raw


def effective_scopes(token: ApiToken) -> set[Scope]:
    """Every scope the token's grants imply: admin includes publish, publish includes write."""
    granted: set[Scope] = set()
    for scope in token.scopes:
        granted |= IMPLIED_SCOPES.get(Scope(scope), set())
    return granted


def authenticate(session: Session, raw: str, now: datetime) -> ApiToken | None:
    """The live token for ``raw``, or None; comparing hashes of 256-bit secrets leaks nothing useful.

    ``last_used_at`` tells an admin which tokens are stale; it is kept to
    LAST_USED_PRECISION so that a busy token does not write on every request.
    """
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(raw))).one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        token.last_used_at = now
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, revoked ones included, in creation order."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int, now: datetime) -> ApiToken:
    """Mark a token revoked at ``now``; revoking again keeps the first time. NotFound for an unknown id."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = now
    return token
