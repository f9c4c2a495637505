"""Two-factor sign-in for staff: TOTP (RFC 6238, pyotp) and one-time recovery codes.

- **Enrolment**: a random 160-bit secret (RFC 4226 §4 recommends 160 bits) is kept as the
  user's *pending* secret and shown as a QR code of its ``otpauth://`` URI (segno, inline
  SVG) and as text; it becomes the user's secret only when a code made from it is typed
  back (the app really has it). Confirming makes RECOVERY_CODES recovery codes, shown once,
  stored as SHA-256 (80 random bits each: nothing to gain from a slow hash).
- **A code is accepted once**: the codes of the previous, current and next 30-second steps
  are accepted (RFC 6238 §5.2: one step of clock drift each way), and the step of the one
  that matched must be later than the last accepted one, written by a conditional UPDATE, so
  a code seen over someone's shoulder (or sent twice at once) fails the second time on
  both databases. A recovery code is spent the same way (``used_at IS NULL``).
- **Who must use it**: the roles in ``BANTIN_TWO_FACTOR_ROLES_REQUIRED``; anyone may enrol. An admin
  resets a lost device: secret and codes gone, sessions ended, the row audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.audit.log import record
from service.auth.users import get_user
from service.db.models import RecoveryCode, StaffSession, User
from service.errors import InvalidField

RECOVERY_CODES = 10
# No 0/o, 1/l/i: a code is read off paper and typed.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_GROUPS, _GROUP = 4, 4  # 16 characters of 31: 79 bits


def required(role: str, settings: Settings) -> bool:
    """Whether ``role`` must sign in with a second factor (BANTIN_TWO_FACTOR_ROLES_REQUIRED)."""
    return role in settings.two_factor_roles


def enrolled(user: User) -> bool:
    """Whether sign-in asks this user for a code."""
    return user.totp_secret is not None


def pending_secret(session: Session, user: User) -> str:
    """The secret to show for enrolment: the one already shown (a reload shows the same QR
    code), else a new one kept as pending."""
    if user.totp_pending_secret is None:
        user.totp_pending_secret = pyotp.random_base32()
        session.flush()
    return user.totp_pending_secret


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI authenticator apps read (Google's Key Uri Format)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as a QR code, an inline ``<svg>`` element (no file, no script: the intranet's CSP holds)."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, border=2, svgclass="qr", omitsize=False)
    return svg


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (previous, current or next) whose code is ``code``; None for none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(session: Session, user_id: int, step: int) -> bool:
    """Record ``step`` as the last accepted one unless it (or a later one) already was."""
    result = session.execute(
        update(User)
        .where(User.id == user_id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _digits(code: str) -> str:
    return "".join(code.split())


def confirm(session: Session, user: User, code: str, now: datetime) -> list[str]:
    """Make the pending secret the user's when ``code`` comes from it; returns the new
    recovery codes (shown once). InvalidField("code", "code_wrong") otherwise."""
    secret = user.totp_pending_secret
    step = _matching_step(secret, _digits(code), now) if secret else None
    if secret is None or step is None:
        raise InvalidField("code", "code_wrong")
    before = {"totp_secret": user.totp_secret, "totp_enabled_at": None}
    user.totp_secret, user.totp_pending_secret = secret, None
    user.totp_enabled_at, user.totp_last_step = now, step
    codes = _new_recovery_codes(session, user.id, now)
    after = {"totp_secret": secret, "totp_enabled_at": now, "recovery_codes": "new"}
    record(session, "user.two_factor_enrol", "user", user.id, before, after, now)
    return codes


def _new_recovery_codes(session: Session, user_id: int, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP)) for _ in range(_CODE_GROUPS))
        for _ in range(RECOVERY_CODES)
    ]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=_code_hash(c), created_at=now) for c in codes)
    session.flush()
    return codes


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def check_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is the user's current TOTP code not used before, or an unused
    recovery code (then spent). Nothing is accepted twice, even by two requests at once."""
    code = _digits(code)
    if user.totp_secret is None:
        return False
    if code.isdigit() and len(code) == 6:
        step = _matching_step(user.totp_secret, code, now)
        return step is not None and _claim_step(session, user.id, step)
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(spent.rowcount) != 1:  # type: ignore[attr-defined]
        return False
    record(session, "user.recovery_codes", "user", user.id, None, {"recovery_code": "used"}, now)
    return True


def reset(session: Session, username: str, now: datetime) -> User:
    """An admin's reset of a lost device: no secret, no recovery codes, every session ended;
    the user enrols again at their next sign-in (if their role requires it). NotFound for
    an unknown username."""
    user = get_user(session, username)
    before = {"totp_secret": user.totp_secret, "totp_enabled_at": user.totp_enabled_at}
    user.totp_secret = user.totp_pending_secret = None
    user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    after = {"totp_secret": None, "totp_enabled_at": None}
    record(session, "user.two_factor_reset", "user", user.id, before, after, now)
    return user
