"""Where a staff member is told: their e-mail, and a Telegram chat they link (decision 0042).

Each address is a subscription of status ``staff`` (never selected for readers' news, a
digest or the hub) named in ``staff_channels``, so a notification is a delivery row like
every other message: retried, leased, logged, behind the egress guard.

A Telegram chat is linked by sending the desk's bot ``/start <code>``: the console shows a
code made of 8 random bytes (64 bits, base32: 13 characters), valid for LINK_CODE_MINUTES,
used once; only its SHA-256 is stored (as recovery codes and sign-up tokens are), so the
table never holds a code that would link a chat.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db.models import StaffChannel, StaffLinkCode, Subscription, SubscriptionStatus, User
from service.errors import InvalidField

LINK_CODE_MINUTES = 15
EMAIL, TELEGRAM = "email", "telegram"
MAX_ADDRESS = 254  # RFC 5321's path limit


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


@dataclass(frozen=True)
class Addresses:
    """A staff member's addresses as the console shows them: the e-mail and the linked chat id."""

    email: str | None
    telegram_chat: str | None


def addresses_of(session: Session, user_id: int) -> Addresses:
    """The e-mail and the linked Telegram chat of ``user_id`` (None where there is none)."""
    rows: dict[str, str] = {}
    for channel, target in session.execute(
        select(StaffChannel.channel, Subscription.target)
        .join(Subscription, Subscription.id == StaffChannel.subscription_id)
        .where(StaffChannel.user_id == user_id)
    ):
        rows[channel] = target
    return Addresses(rows.get(EMAIL), rows.get(TELEGRAM))


def _point(session: Session, user_id: int, channel: str, target: str | None, now: datetime) -> None:
    """Point the user's ``channel`` address at ``target`` (None: no address on it)."""
    link = session.get(StaffChannel, (user_id, channel), with_for_update=True)
    if target is None:
        if link is not None:
            session.execute(delete(StaffChannel).where(StaffChannel.subscription_id == link.subscription_id))
            # Kept, not deleted, so that its deliveries stay in the log; nothing names it again.
            session.execute(
                update(Subscription)
                .where(Subscription.id == link.subscription_id)
                .values(status=SubscriptionStatus.DISABLED.value, status_reason="removed by its owner", updated_at=now)
            )
        return
    if link is not None:
        subscription = session.get(Subscription, link.subscription_id)
        assert subscription is not None
        subscription.target, subscription.updated_at = target, now
        subscription.status, subscription.status_reason = SubscriptionStatus.STAFF.value, None
        return
    subscription = Subscription(
        channel=channel,
        target=target,
        status=SubscriptionStatus.STAFF.value,
        unsubscribe_token=secrets.token_urlsafe(32),
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    session.flush()
    session.add(StaffChannel(user_id=user_id, channel=channel, subscription_id=subscription.id))
    session.flush()


def set_email(session: Session, user: User, email: str, now: datetime) -> str | None:
    """Set (or, with an empty ``email``, remove) the user's notification e-mail; returns it
    normalised. InvalidField("email", "not_email") for an address that is not one."""
    email = email.strip()
    if not email:
        user.email = None
        _point(session, user.id, EMAIL, None, now)
        return None
    if len(email) > MAX_ADDRESS:
        raise InvalidField("email", "too_long", length=len(email), limit=MAX_ADDRESS)
    try:
        normalised = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidField("email", "not_email", reason=str(exc)) from None
    user.email = normalised
    _point(session, user.id, EMAIL, normalised, now)
    return normalised


def unlink_telegram(session: Session, user_id: int, now: datetime) -> None:
    """Stop telling the user in their linked chat."""
    _point(session, user_id, TELEGRAM, None, now)


def new_link_code(session: Session, user_id: int, now: datetime) -> str:
    """A new one-time code for ``/start <code>`` (shown once); the user's earlier unused codes
    stop working, so only the code on screen links."""
    session.execute(delete(StaffLinkCode).where(StaffLinkCode.user_id == user_id, StaffLinkCode.used_at.is_(None)))
    code = base64.b32encode(secrets.token_bytes(8)).decode().rstrip("=")
    session.add(
        StaffLinkCode(
            user_id=user_id,
            code_hash=_hash(code),
            created_at=now,
            expires_at=now + timedelta(minutes=LINK_CODE_MINUTES),
        )
    )
    session.flush()
    return code


def redeem_link_code(session: Session, code: str, chat_id: int, now: datetime) -> User | None:
    """Link the chat to the staff member whose unused, unexpired code ``code`` is; the code is
    used up (a conditional UPDATE, so two chats sending it at once link one). None for a code
    that is unknown, used or expired."""
    if not code or len(code) > 64:
        return None
    used = session.execute(
        update(StaffLinkCode)
        .where(StaffLinkCode.code_hash == _hash(code), StaffLinkCode.used_at.is_(None), StaffLinkCode.expires_at > now)
        .values(used_at=now)
        .returning(StaffLinkCode.user_id)
    ).scalar_one_or_none()
    if used is None:
        return None
    user = session.get(User, used)
    if user is None or not user.active:
        return None
    _point(session, user.id, TELEGRAM, str(chat_id), now)
    return user


def subscriptions_of(session: Session, user_ids: Iterable[int]) -> list[int]:
    """The notification subscriptions (every channel) of ``user_ids``, for a Named audience."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    return list(
        session.scalars(
            select(StaffChannel.subscription_id)
            .join(Subscription, Subscription.id == StaffChannel.subscription_id)
            .where(StaffChannel.user_id.in_(ids), Subscription.status == SubscriptionStatus.STAFF)
            .order_by(StaffChannel.subscription_id)
        )
    )
