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
- **Who must use it**: the roles in ``BANTIN_TWO_FACTOR_ROLES_REQUIRED`` (the operator's floor)
  and those an admin requires in the console (``two_factor_roles``, audited); anyone may
  enrol. An admin resets a lost device: secret and codes gone, sessions ended, the row audited.
- **Secrets sealed at rest** (service/auth/sealed.py): the stored secret is AES-GCM under a
  key derived from ``BANTIN_SECRET_KEY``, so a copy of the database cannot make codes. A
  value kept in clear by the first release is sealed when the API starts (:func:`seal_kept_in_clear`)
  and, until then, read once more and sealed at its next use.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from service.audit.log import record
from service.auth.sealed import VERSION, Unreadable, is_sealed, seal, unseal
from service.auth.users import get_user
from service.db.models import RecoveryCode, StaffSession, TwoFactorRole, User
from service.errors import InvalidField

log = logging.getLogger(__name__)

RECOVERY_CODES = 10
# No 0/o, 1/l/i: a code is read off paper and typed.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_GROUPS, _GROUP = 4, 4  # 16 characters of 31: 79 bits


_PURPOSE = "totp-secret"


def _sealed(plain: str) -> str:
    return seal(get_settings().secret_key.get_secret_value(), _PURPOSE, plain)


def _plain(stored: str) -> str:
    """The secret of a stored value; a value from before sealing is its own plain text.
    Unreadable when sealed under another secret key."""
    if not is_sealed(stored):
        return stored
    return unseal(get_settings().secret_key.get_secret_value(), _PURPOSE, stored)


def seal_kept_in_clear(session: Session) -> int:
    """Seal every secret the first release kept in clear (enrolled or pending); the count.

    The API runs it at start (service/api/app.py), so an account that never signs in again
    does not keep a clear secret in the database and its copies; a migration cannot, since
    sealing needs BANTIN_SECRET_KEY. Several API processes starting at once may each seal a
    row: every result opens to the same secret.
    """
    clear = or_(
        ~User.totp_secret.startswith(VERSION, autoescape=True),
        ~User.totp_pending_secret.startswith(VERSION, autoescape=True),
    )
    # Locked: an admin's reset committed meanwhile must not be overwritten by the old secret sealed.
    users = session.scalars(select(User).where(clear).with_for_update()).all()
    for user in users:
        if user.totp_secret is not None and not is_sealed(user.totp_secret):
            user.totp_secret = _sealed(user.totp_secret)
        if user.totp_pending_secret is not None and not is_sealed(user.totp_pending_secret):
            user.totp_pending_secret = _sealed(user.totp_pending_secret)
    return len(users)


def required_roles(session: Session, settings: Settings) -> frozenset[str]:
    """The roles that must sign in with a second factor: BANTIN_TWO_FACTOR_ROLES_REQUIRED
    (which the console cannot lower) and the roles an admin required in the console."""
    chosen = session.scalars(select(TwoFactorRole.role)).all()
    return settings.two_factor_roles | frozenset(chosen)


def required(session: Session, role: str, settings: Settings) -> bool:
    """Whether ``role`` must sign in with a second factor (see :func:`required_roles`)."""
    return role in settings.two_factor_roles or session.get(TwoFactorRole, role) is not None


def require_roles(session: Session, roles: set[str], actor: str, now: datetime) -> None:
    """An admin's choice of the roles that must use a second factor, beyond the setting's
    (those stay required whatever is chosen). Audited as ``two_factor.policy`` with the
    roles before and after; nothing written when nothing changed."""
    before = set(session.scalars(select(TwoFactorRole.role)).all())
    if before == roles:
        return
    session.execute(delete(TwoFactorRole).where(TwoFactorRole.role.not_in(roles)))
    session.add_all(TwoFactorRole(role=role, required_since=now, required_by=actor) for role in roles - before)
    after = {"roles": sorted(roles)}
    record(session, "two_factor.policy", "two_factor_policy", None, {"roles": sorted(before)}, after, now)


def enrolled(user: User) -> bool:
    """Whether sign-in asks this user for a code."""
    return user.totp_secret is not None


def pending_secret(session: Session, user: User) -> str:
    """The secret to show for enrolment: the one already shown (a reload shows the same QR
    code), else a new one kept as pending."""
    if user.totp_pending_secret is not None:
        try:
            return _plain(user.totp_pending_secret)
        except Unreadable:
            pass  # sealed under a former secret key: a new one to scan
    secret = pyotp.random_base32()
    user.totp_pending_secret = _sealed(secret)
    session.flush()
    return secret


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
    try:
        secret = _plain(user.totp_pending_secret) if user.totp_pending_secret else None
    except Unreadable:
        secret = None
    step = _matching_step(secret, _digits(code), now) if secret else None
    if secret is None or step is None:
        raise InvalidField("code", "code_wrong")
    before = {"totp_secret": user.totp_secret, "totp_enabled_at": None}
    user.totp_secret, user.totp_pending_secret = _sealed(secret), None
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
        try:
            secret = _plain(user.totp_secret)
        except Unreadable:
            # Sealed under a former BANTIN_SECRET_KEY: no code can match. Recovery codes
            # (hashed, not sealed) still sign in; an admin resets the device.
            log.error("two-factor secret of user %s does not open with this secret key: reset it", user.id)
            return False
        step = _matching_step(secret, code, now)
        if step is None or not _claim_step(session, user.id, step):
            return False
        if not is_sealed(user.totp_secret):
            user.totp_secret = _sealed(secret)
        return True
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
