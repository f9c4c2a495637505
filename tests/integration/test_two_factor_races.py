"""A code is accepted once even when two sign-ins send it at the same moment, on SQLite and
PostgreSQL: the last accepted time step and a recovery code's ``used_at`` are claimed by
conditional UPDATEs, so of several requests carrying one code exactly one signs in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest

from tests.integration.concurrency import at_once
from tests.integration.conftest import in_process_database

NOW = datetime(2027, 2, 3, 1, 0, 10, tzinfo=UTC)
THREADS = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with in_process_database(request.param, tmp_path):
        yield request.param


def test_one_code_sent_by_several_sign_ins_at_once_signs_in_one(database: str) -> None:
    from service.auth import two_factor
    from service.auth.users import create_user, get_user
    from service.db.engine import session_scope

    with session_scope() as session:
        user = create_user(session, "lan", "mật-khẩu-dài-đủ", "editor", NOW)
        secret = two_factor.pending_secret(session, user)
        codes = two_factor.confirm(session, user, pyotp.TOTP(secret).at(NOW), NOW)
    later = datetime(2027, 2, 3, 1, 1, 10, tzinfo=UTC)

    def sign_in(code: str) -> bool:
        with session_scope() as session:
            return two_factor.check_code(session, get_user(session, "lan"), code, later)

    assert sorted(at_once(THREADS, lambda _: sign_in(pyotp.TOTP(secret).at(later)))) == [False] * 5 + [True]  # type: ignore[type-var]
    assert sorted(at_once(THREADS, lambda _: sign_in(codes[0]))) == [False] * 5 + [True]  # type: ignore[type-var]
