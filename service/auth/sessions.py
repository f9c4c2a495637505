"""Server-side console sessions and their CSRF synchroniser tokens.

The browser holds a 256-bit random token in a cookie; the database holds only its
SHA-256, so a copy of the table cannot be replayed. A session ends after
``console_session_idle_seconds`` without use. Each session has its own CSRF token,
so signing in again (a new session) also rotates it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.audit.context import identify
from service.audit.log import record
from service.db.models import StaffSession, User

# last_seen_at is written at most this often, so that each page view does not write.
TOUCH_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """What a request knows about its session: the user and the session's CSRF token."""

    session_id: str
    user_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str
    # Signs in with a code from an authenticator app (service/auth/two_factor.py).
    two_factor: bool = False

    @property
    def actor(self) -> str:
        """How changes made through this session are recorded (``created_by``/``updated_by``)."""
        return f"user:{self.username}"


def _session_id(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> str:
    """A new session for ``user``, the end of a sign-in (audited as ``user`` from now on);
    returns the raw token for the cookie (never stored)."""
    identify("user", user.id, user.username)
    record(session, "sign_in", "user", user.id, now=now)
    raw = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id=_session_id(raw), user_id=user.id, csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now
        )
    )
    session.flush()
    return raw


def resume_session(session: Session, raw: str | None, now: datetime) -> SignedIn | None:
    """The signed-in user behind a cookie, or None when it is unknown, idle too long or the user is disabled."""
    if not raw:
        return None
    row = session.get(StaffSession, _session_id(raw))
    if row is None:
        return None
    idle = timedelta(seconds=get_settings().console_session_idle_seconds)
    if row.last_seen_at + idle <= now or not row.user.active:
        session.delete(row)
        return None
    if row.last_seen_at + TOUCH_PRECISION <= now:
        row.last_seen_at = now
    user = row.user
    identify("user", user.id, user.username)
    return SignedIn(
        row.id, user.id, user.username, user.display_name, user.role, row.csrf_token, user.totp_secret is not None
    )


def end_session(session: Session, raw: str | None) -> None:
    """Delete the session behind a cookie's raw token (sign-out); nothing happens for a missing or unknown token."""
    if raw:
        session.execute(delete(StaffSession).where(StaffSession.id == _session_id(raw)))


def sign_out(session: Session, raw: str | None, now: datetime) -> None:
    """End the session behind a cookie's raw token, audited as a sign-out; nothing for an unknown token."""
    row = session.get(StaffSession, _session_id(raw)) if raw else None
    if row is not None:
        record(session, "sign_out", "user", row.user_id, now=now)
        session.delete(row)
        session.flush()


def purge_idle_sessions(session: Session, now: datetime) -> int:
    """Delete sessions idle past the limit; returns how many."""
    cutoff = now - timedelta(seconds=get_settings().console_session_idle_seconds)
    result = session.execute(delete(StaffSession).where(StaffSession.last_seen_at <= cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


def csrf_matches(expected: str, sent: str | None) -> bool:
    """Constant-time comparison of the session's token with the one a form sent."""
    if not sent:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), sent.encode("utf-8"))


def push_flash(session: Session, session_id: str, message: str) -> None:
    """Queue a one-time message for the session's next page; ignored when the session has ended."""
    row = session.get(StaffSession, session_id)
    if row is not None:
        row.flash = [*row.flash, message]


def pop_flash(session: Session, session_id: str) -> list[str]:
    """The session's queued messages, oldest first, and empty the queue."""
    row = session.get(StaffSession, session_id)
    if row is None or not row.flash:
        return []
    messages, row.flash = list(row.flash), []
    return messages


def sessions_of(session: Session, user_id: int) -> list[StaffSession]:
    """Every stored session of a user, idle ones included until they are purged."""
    return list(session.scalars(select(StaffSession).where(StaffSession.user_id == user_id)))
