"""Staff accounts for the console: create, authenticate, list, disable, set a password.

Passwords are hashed with Argon2id (argon2-cffi's defaults: the RFC 9106 "second
recommended" profile, 64 MiB, t=3, p=4); a hash made with older parameters is
replaced at the next successful sign-in.
"""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.audit.log import fields, record
from service.db.models import StaffSession, User, UserRole
from service.errors import Conflict, InvalidField, NotFound
from service.text import clean_line

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 accepts more; a cap keeps one request from costing a lot of CPU.

# What the audit log keeps of an account (never its password hash).
AUDITED = ("username", "display_name", "role", "active")

_hasher = PasswordHasher()
# Verifying against this when the user does not exist makes "no such user" cost what
# "wrong password" costs, so response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string) of ``password``; the password rules are checked by the caller."""
    return _hasher.hash(password)


def check_password_rules(password: str) -> str:
    """The password if it is acceptable; InvalidField("password", …) otherwise."""
    if len(password) < MIN_PASSWORD:
        raise InvalidField("password", "password_short", limit=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise InvalidField("password", "password_long", limit=MAX_PASSWORD)
    return password


def normalise_username(username: str) -> str:
    """A username as it is stored and compared: stripped and lower-cased."""
    return username.strip().lower()


def _check_username(username: str) -> str:
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise InvalidField("username", "username")
    return username


def _check_role(role: str) -> str:
    try:
        return UserRole(role).value
    except ValueError:
        raise InvalidField("role", "one_of", choices=", ".join(r.value for r in UserRole)) from None


def create_user(
    session: Session, username: str, password: str, role: str, now: datetime, display_name: str | None = None
) -> User:
    """A new active user; Conflict when the username is taken."""
    username = _check_username(username)
    role = _check_role(role)
    check_password_rules(password)
    name = clean_line(display_name or "") or username
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username, display_name=name[:200], role=role, password_hash=hash_password(password), created_at=now
    )
    session.add(user)
    session.flush()
    record(session, "user.create", "user", user.id, None, fields(user, AUDITED), now)
    return user


def get_user(session: Session, username: str) -> User:
    """The user with this username (normalised first), disabled or not; NotFound otherwise."""
    user = session.scalars(select(User).where(User.username == normalise_username(username))).one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, disabled ones included, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def count_users(session: Session) -> int:
    """How many users exist, disabled ones included."""
    return session.scalar(select(func.count()).select_from(User)) or 0


def authenticate(session: Session, username: str, password: str, now: datetime) -> User | None:
    """The active user whose password this is, or None (unknown, disabled or wrong)."""
    user = session.scalars(select(User).where(User.username == normalise_username(username))).one_or_none()
    if user is None or len(password) > MAX_PASSWORD:
        _verify(_DUMMY_HASH, password[:MAX_PASSWORD])
        _failed(session, user, username, now)
        return None
    if not _verify(user.password_hash, password) or not user.active:
        _failed(session, user, username, now)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


def _failed(session: Session, user: User | None, username: str, now: datetime) -> None:
    """The failed attempt's audit row: the account asked for (by id when it exists), never the password."""
    asked = clean_line(username)[:200] or None
    record(session, "sign_in.failed", "user", user.id if user else None, None, {"username": asked}, now)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, username: str, password: str) -> User:
    """A new password; every session of that user ends (a stolen cookie stops working)."""
    user = get_user(session, username)
    user.password_hash = hash_password(check_password_rules(password))
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    record(session, "user.password", "user", user.id, {"password": "old"}, {"password": "new"})
    return user


def disable_user(session: Session, username: str) -> User:
    """The user can no longer sign in, and is signed out everywhere."""
    user = get_user(session, username)
    before = fields(user, AUDITED)
    user.active = False
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    record(session, "user.disable", "user", user.id, before, fields(user, AUDITED))
    return user
