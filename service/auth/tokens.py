"""Create, verify, list and revoke staff API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from service.audit.log import fields, record
from service.db.engine import read_scope, session_scope
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


# What the audit log keeps of a token (never its value or hash).
AUDITED = ("name", "scopes", "revoked_at")


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
        raise InvalidField("name", "empty")
    try:
        parsed = sorted({Scope(s) for s in scopes})
    except ValueError:
        raise InvalidField("scope", "one_of", choices=", ".join(s.value for s in Scope)) from None
    if not parsed:
        raise InvalidField("scope", "scope_needed")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(raw), scopes=[s.value for s in parsed], created_at=now)
    session.add(token)
    session.flush()
    record(session, "token.create", "token", token.id, None, fields(token, AUDITED), now)
    return token, raw


@dataclass(frozen=True, slots=True)
class LiveToken:
    """What a request needs of a token that is not revoked (read as values, not as a row object)."""

    id: int
    name: str
    scopes: list[str]
    last_used_at: datetime | None

    def used_long_ago(self, now: datetime) -> bool:
        """True when ``last_used_at`` is missing or older than LAST_USED_PRECISION: time to write it."""
        return self.last_used_at is None or self.last_used_at < now - LAST_USED_PRECISION


def effective_scopes(token: ApiToken | LiveToken) -> set[Scope]:
    """Every scope the token's grants imply: admin includes publish, publish includes write."""
    granted: set[Scope] = set()
    for scope in token.scopes:
        granted |= IMPLIED_SCOPES.get(Scope(scope), set())
    return granted


# Declarative models' __table__ is typed as a FromClause; it is this Table.
_tokens = cast(Table, ApiToken.__table__)
# Built once: a statement built per request cost more CPU than the look-up itself.
_LIVE_TOKEN = select(_tokens.c.id, _tokens.c.name, _tokens.c.scopes, _tokens.c.last_used_at).where(
    _tokens.c.token_hash == bindparam("token_hash"), _tokens.c.revoked_at.is_(None)
)
_MARK_USED = update(_tokens).where(_tokens.c.id == bindparam("token_id")).values(last_used_at=bindparam("last_used_at"))


def find_live_token(session: Session, raw: str) -> LiveToken | None:
    """The token for ``raw`` unless unknown or revoked; reads only (an autocommit session will do).

    Comparing hashes of 256-bit secrets leaks nothing useful.
    """
    row = session.execute(_LIVE_TOKEN, {"token_hash": hash_token(raw)}).one_or_none()
    return None if row is None else LiveToken(row.id, row.name, list(row.scopes), row.last_used_at)


def mark_used(session: Session, token: LiveToken, now: datetime) -> LiveToken:
    """Record ``now`` as the token's last use; the token as it is now."""
    session.execute(_MARK_USED, {"token_id": token.id, "last_used_at": now})
    return replace(token, last_used_at=now)


def authenticate(raw: str, now: datetime) -> LiveToken | None:
    """The live token for ``raw``, or None: :func:`find_live_token` on an autocommit
    connection (no BEGIN, no COMMIT: this runs on every API request), then, in a
    transaction of its own, :func:`mark_used` if it was :meth:`~LiveToken.used_long_ago`.

    ``last_used_at`` tells an admin which tokens are stale; it is kept to
    LAST_USED_PRECISION so that a busy token does not write on every request.
    """
    with read_scope() as session:
        token = find_live_token(session, raw)
    if token is not None and token.used_long_ago(now):
        with session_scope() as session:
            token = mark_used(session, token, now)
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
        before = fields(token, AUDITED)
        token.revoked_at = now
        record(session, "token.revoke", "token", token.id, before, fields(token, AUDITED), now)
    return token
