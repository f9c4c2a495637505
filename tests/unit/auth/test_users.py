"""Staff accounts: Argon2id hashes, sign-in, and what disabling or a new password ends."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from service.auth.sessions import resume_session, start_session
from service.auth.users import authenticate, create_user, disable_user, get_user, set_password
from service.db.engine import session_scope
from service.db.types import utcnow
from service.errors import Conflict, InvalidField

PASSWORD = "mật khẩu đủ dài 2026"


def test_password_is_stored_as_an_argon2id_hash_never_in_clear() -> None:
    with session_scope() as session:
        user = create_user(session, "BienTap", PASSWORD, "editor", utcnow(), "Biên tập viên A")
        assert user.username == "bientap"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert PasswordHasher().verify(user.password_hash, PASSWORD)


def test_authenticate_accepts_the_password_and_nothing_else() -> None:
    with session_scope() as session:
        create_user(session, "admin", PASSWORD, "admin", utcnow())
    with session_scope() as session:
        assert authenticate(session, "admin", PASSWORD + "x", utcnow()) is None
        assert authenticate(session, "nobody", PASSWORD, utcnow()) is None
        user = authenticate(session, " Admin ", PASSWORD, utcnow())
        assert user is not None and user.last_login_at is not None


def test_an_outdated_hash_is_replaced_at_sign_in() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with session_scope() as session:
        user = create_user(session, "cu", PASSWORD, "editor", utcnow())
        user.password_hash = weak.hash(PASSWORD)
    with session_scope() as session:
        signed_in = authenticate(session, "cu", PASSWORD, utcnow())
        assert signed_in is not None and "m=65536" in signed_in.password_hash


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("a", PASSWORD, "admin", "username"),
        ("có dấu", PASSWORD, "admin", "username"),
        ("ok-name", "short", "admin", "password"),
        ("ok-name", PASSWORD, "owner", "role"),
    ],
)
def test_bad_account_input_names_the_field(username: str, password: str, role: str, field: str) -> None:
    with session_scope() as session, pytest.raises(InvalidField) as raised:
        create_user(session, username, password, role, utcnow())
    assert raised.value.field == field


def test_usernames_are_unique_whatever_the_case() -> None:
    with session_scope() as session:
        create_user(session, "trang", PASSWORD, "writer", utcnow())
    with session_scope() as session, pytest.raises(Conflict):
        create_user(session, "Trang", PASSWORD, "writer", utcnow())


def test_disabling_refuses_sign_in_and_ends_sessions() -> None:
    with session_scope() as session:
        user = create_user(session, "mai", PASSWORD, "editor", utcnow())
        raw = start_session(session, user, utcnow())
    with session_scope() as session:
        disable_user(session, "mai")
    with session_scope() as session:
        assert resume_session(session, raw, utcnow()) is None
        assert authenticate(session, "mai", PASSWORD, utcnow()) is None


def test_a_new_password_ends_every_session_and_replaces_the_old_one() -> None:
    with session_scope() as session:
        user = create_user(session, "lan", PASSWORD, "editor", utcnow())
        raw = start_session(session, user, utcnow())
    with session_scope() as session:
        set_password(session, "lan", "một mật khẩu mới hẳn")
    with session_scope() as session:
        assert resume_session(session, raw, utcnow()) is None
        assert authenticate(session, "lan", PASSWORD, utcnow()) is None
        assert authenticate(session, "lan", "một mật khẩu mới hẳn", utcnow()) is not None
        assert get_user(session, "lan").active
