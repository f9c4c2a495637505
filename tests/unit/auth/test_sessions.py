"""Console sessions: stored as hashes, idle expiry, per-session CSRF tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from service.auth.sessions import csrf_matches, end_session, pop_flash, push_flash, resume_session, start_session
from service.auth.users import create_user
from service.db.engine import session_scope
from service.db.models import StaffSession
from service.db.types import utcnow


@pytest.fixture
def user_id() -> int:
    with session_scope() as session:
        return create_user(session, "editor", "mật khẩu đủ dài", "editor", utcnow()).id


def _start(user_id: int, when=None) -> str:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        from service.db.models import User

        user = session.get(User, user_id)
        assert user is not None
        return start_session(session, user, when or utcnow())


def test_only_the_hash_of_the_cookie_is_stored(user_id: int) -> None:
    raw = _start(user_id)
    with session_scope() as session:
        row = session.query(StaffSession).one()
        assert row.id == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in (row.id, row.csrf_token)
        signed = resume_session(session, raw, utcnow())
        assert signed is not None and signed.username == "editor" and signed.actor == "user:editor"


def test_each_sign_in_gets_a_new_id_and_a_new_csrf_token(user_id: int) -> None:
    first, second = _start(user_id), _start(user_id)
    assert first != second
    with session_scope() as session:
        a, b = resume_session(session, first, utcnow()), resume_session(session, second, utcnow())
        assert a is not None and b is not None and a.csrf_token != b.csrf_token


def test_an_idle_session_ends(settings_override: pytest.MonkeyPatch, user_id: int) -> None:
    settings_override.setenv("BANTIN_CONSOLE_SESSION_IDLE_SECONDS", "600")
    start = utcnow()
    raw = _start(user_id, start)
    with session_scope() as session:
        # Used within the limit: still signed in, and the idle clock restarts.
        assert resume_session(session, raw, start + timedelta(seconds=590)) is not None
    with session_scope() as session:
        assert resume_session(session, raw, start + timedelta(seconds=1180)) is not None
    with session_scope() as session:
        assert resume_session(session, raw, start + timedelta(seconds=1800)) is None
    with session_scope() as session:
        assert session.query(StaffSession).count() == 0


def test_unknown_and_ended_sessions_are_refused(user_id: int) -> None:
    raw = _start(user_id)
    with session_scope() as session:
        assert resume_session(session, "made-up", utcnow()) is None
        assert resume_session(session, None, utcnow()) is None
        end_session(session, raw)
    with session_scope() as session:
        assert resume_session(session, raw, utcnow()) is None


@pytest.mark.parametrize(("sent", "ok"), [("abc", True), ("abd", False), ("", False), (None, False), ("abcd", False)])
def test_csrf_tokens_must_match_exactly(sent: str | None, ok: bool) -> None:
    assert csrf_matches("abc", sent) is ok


def test_flash_messages_are_shown_once(user_id: int) -> None:
    raw = _start(user_id)
    with session_scope() as session:
        signed = resume_session(session, raw, utcnow())
        assert signed is not None
        push_flash(session, signed.session_id, "Bài “A” đã được xuất bản.")
    with session_scope() as session:
        assert pop_flash(session, signed.session_id) == ["Bài “A” đã được xuất bản."]
    with session_scope() as session:
        assert pop_flash(session, signed.session_id) == []
