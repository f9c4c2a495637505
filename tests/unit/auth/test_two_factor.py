"""Two-factor sign-in's rules (service/auth/two_factor.py): a pending secret becomes the
user's only with a code made from it; a code is accepted once; a recovery code once; an
admin's reset ends it all, audited; who must use it is a setting and an admin's choice;
the secret is sealed at rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import Settings, get_settings
from service.api.app import create_app
from service.auth import sealed, two_factor
from service.auth.sessions import sessions_of, start_session
from service.auth.users import create_user, get_user
from service.db.engine import session_scope
from service.db.models import AuditEvent, RecoveryCode
from service.errors import InvalidField

NOW = datetime(2027, 2, 3, 1, 0, 10, tzinfo=UTC)


def enrolled_user(username: str = "lan") -> tuple[str, list[str]]:
    """A user who has confirmed enrolment at NOW; their secret and recovery codes."""
    with session_scope() as session:
        user = create_user(session, username, "mật-khẩu-dài-đủ", "editor", NOW)
        secret = two_factor.pending_secret(session, user)
        assert two_factor.pending_secret(session, user) == secret  # a reload shows the same QR code
        assert not two_factor.enrolled(user)
        codes = two_factor.confirm(session, user, pyotp.TOTP(secret).at(NOW - timedelta(seconds=30)), NOW)
        return secret, codes


def check(code: str, at: datetime, username: str = "lan") -> bool:
    with session_scope() as session:
        return two_factor.check_code(session, get_user(session, username), code, at)


def test_enrolment_needs_a_code_from_the_shown_secret() -> None:
    with session_scope() as session:
        user = create_user(session, "lan", "mật-khẩu-dài-đủ", "editor", NOW)
        secret = two_factor.pending_secret(session, user)
        with pytest.raises(InvalidField) as refused:
            two_factor.confirm(session, user, pyotp.TOTP(pyotp.random_base32()).at(NOW), NOW)
        assert (refused.value.field, refused.value.code) == ("code", "code_wrong")
        assert user.totp_secret is None
        codes = two_factor.confirm(session, user, pyotp.TOTP(secret).at(NOW), NOW)
        assert two_factor.enrolled(user) and user.totp_pending_secret is None
        assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
        stored = session.scalars(select(RecoveryCode.code_hash)).all()
        assert not set(stored) & {c.replace("-", "") for c in codes}  # only hashes are kept
    uri = two_factor.provisioning_uri(secret, "lan", "Bantin")
    assert uri.startswith("otpauth://totp/Bantin:lan?secret=" + secret)
    assert two_factor.qr_svg(uri).startswith("<svg")


def test_a_code_is_accepted_once_and_an_older_one_never_after_a_newer() -> None:
    secret, _ = enrolled_user()
    totp = pyotp.TOTP(secret)
    later = NOW + timedelta(minutes=2)
    assert check(totp.at(later), later)
    assert not check(totp.at(later), later)  # the same code again: a replay
    assert not check(totp.at(later - timedelta(seconds=30)), later)  # the step before: also spent
    assert check(totp.at(later + timedelta(seconds=30)), later + timedelta(seconds=30))
    assert not check("000000" if totp.at(later) != "000000" else "111111", later + timedelta(minutes=1))
    assert not check(totp.at(later + timedelta(minutes=5)), later)  # beyond one step of drift


def test_a_recovery_code_works_once_whatever_its_case_and_dashes() -> None:
    _, codes = enrolled_user()
    typed = codes[0].replace("-", "").upper()
    assert check(typed, NOW)
    assert not check(codes[0], NOW)
    assert check(codes[1], NOW)
    with session_scope() as session:
        used = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "user.recovery_codes")).all()
    assert len(used) == 2


def test_an_admin_reset_removes_the_secret_the_codes_and_the_sessions() -> None:
    secret, codes = enrolled_user()
    with session_scope() as session:
        start_session(session, get_user(session, "lan"), NOW)
        user = two_factor.reset(session, "lan", NOW)
        assert not two_factor.enrolled(user) and sessions_of(session, user.id) == []
        assert session.scalars(select(RecoveryCode)).all() == []
        row = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset")).one()
        assert row.before == {"totp_secret": "***", "totp_enabled_at": NOW.isoformat()}
        assert secret not in repr(row.after)
    assert not check(pyotp.TOTP(secret).at(NOW + timedelta(minutes=3)), NOW + timedelta(minutes=3))
    assert not check(codes[2], NOW)


def test_the_roles_that_must_use_it_are_the_setting_and_the_admins_choice() -> None:
    chosen = Settings(two_factor_roles_required="editor")
    with session_scope() as session:
        assert not two_factor.required(session, "admin", get_settings())
        assert [two_factor.required(session, r, chosen) for r in ("writer", "editor", "admin")] == [False, True, False]
        two_factor.require_roles(session, {"admin"}, "quantri", NOW)
        assert [two_factor.required(session, r, chosen) for r in ("writer", "editor", "admin")] == [False, True, True]
        assert two_factor.required_roles(session, chosen) == {"editor", "admin"}
        two_factor.require_roles(session, {"admin"}, "quantri", NOW)  # no change: no second audit row
        two_factor.require_roles(session, {"writer"}, "quantri", NOW + timedelta(minutes=1))
        assert two_factor.required_roles(session, chosen) == {"editor", "writer"}
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "two_factor.policy")).all()
        assert [(r.before, r.after) for r in rows] == [
            ({"roles": []}, {"roles": ["admin"]}),
            ({"roles": ["admin"]}, {"roles": ["writer"]}),
        ]
    with pytest.raises(ValueError, match="'boss' is not a role"):
        Settings(two_factor_roles_required="boss")


def test_the_secret_is_sealed_at_rest_and_opens_only_with_the_secret_key(
    settings_override: pytest.MonkeyPatch,
) -> None:
    secret, _ = enrolled_user()
    with session_scope() as session:
        stored = get_user(session, "lan").totp_secret
    assert stored is not None and sealed.is_sealed(stored) and secret not in stored
    assert check(pyotp.TOTP(secret).at(NOW + timedelta(minutes=1)), NOW + timedelta(minutes=1))
    settings_override.setenv("BANTIN_SECRET_KEY", "a-different-secret-key-of-enough-length-0123456789")
    get_settings.cache_clear()
    # Under another key no code matches (the log says to reset); the value is not replaced.
    assert not check(pyotp.TOTP(secret).at(NOW + timedelta(minutes=2)), NOW + timedelta(minutes=2))
    with session_scope() as session:
        assert get_user(session, "lan").totp_secret == stored


def test_a_secret_kept_in_clear_before_sealing_still_signs_in_and_is_sealed_then() -> None:
    secret, _ = enrolled_user()
    with session_scope() as session:
        get_user(session, "lan").totp_secret = secret  # as the first release stored it
    assert check(pyotp.TOTP(secret).at(NOW + timedelta(minutes=1)), NOW + timedelta(minutes=1))
    with session_scope() as session:
        stored = get_user(session, "lan").totp_secret
    assert stored is not None and sealed.is_sealed(stored)
    assert sealed.unseal(get_settings().secret_key.get_secret_value(), "totp-secret", stored) == secret


def test_a_sealed_value_opens_for_its_own_purpose_and_key_only() -> None:
    box = sealed.seal("k" * 40, "totp-secret", "JBSWY3DPEHPK3PXP")
    assert sealed.unseal("k" * 40, "totp-secret", box) == "JBSWY3DPEHPK3PXP"
    assert box != sealed.seal("k" * 40, "totp-secret", "JBSWY3DPEHPK3PXP")  # a fresh nonce each time
    for key, purpose, value in (
        ("j" * 40, "totp-secret", box),
        ("k" * 40, "other", box),
        ("k" * 40, "totp-secret", box[:-2] + ("A" if box[-2] != "A" else "B") + box[-1]),
        ("k" * 40, "totp-secret", "JBSWY3DPEHPK3PXP"),
        ("k" * 40, "totp-secret", "v1.%%%"),
        ("k" * 40, "totp-secret", "v1."),
    ):
        with pytest.raises(sealed.Unreadable):
            sealed.unseal(key, purpose, value)


def test_secrets_kept_in_clear_are_sealed_at_start_without_a_sign_in() -> None:
    secret, _ = enrolled_user()
    with session_scope() as session:
        create_user(session, "minh", "mật-khẩu-dài-đủ", "writer", NOW)
        pending = two_factor.pending_secret(session, get_user(session, "minh"))
        get_user(session, "lan").totp_secret = secret  # both as the first release stored them
        get_user(session, "minh").totp_pending_secret = pending
    with TestClient(create_app()):  # the API's start seals them
        pass
    with session_scope() as session:
        assert two_factor.seal_kept_in_clear(session) == 0  # nothing left in clear
        lan, minh = get_user(session, "lan"), get_user(session, "minh")
        assert lan.totp_secret is not None and minh.totp_pending_secret is not None
        key = get_settings().secret_key.get_secret_value()
        assert sealed.unseal(key, "totp-secret", lan.totp_secret) == secret
        assert sealed.unseal(key, "totp-secret", minh.totp_pending_secret) == pending
    assert check(pyotp.TOTP(secret).at(NOW + timedelta(minutes=1)), NOW + timedelta(minutes=1))
