"""Export and forget one subscriber (Decree 13/2023/NĐ-CP, art. 9: access and deletion).

Forget removes every personal field but keeps the subscription row as an anonymous
tombstone (its id, channel and the delivery rows' counts and times), so the delivery
log's totals stay true; a SHA-256 of the channel and target is kept as a suppression
entry, so an import or an admin cannot re-add the address unasked.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from service.audit.log import record
from service.db.models import (
    Announcement,
    ConsentEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Digest,
    IdempotentRequest,
    SubscribeRequest,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from service.readers.preferences import FORGOTTEN
from service.readers.signup import suppression_hash

PERSONAL_CHANNELS = ("email", "telegram", "zalo")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def find(session: Session, target: str) -> list[Subscription]:
    """The personal-channel subscriptions of an e-mail address (as typed, lower case, or as
    ``email_validator`` normalises it when the admin API stored it), a Telegram chat id or a
    Zalo follower id."""
    target = target.strip()
    candidates = {target, target.lower()}
    if "@" in target[1:]:  # "@channelname" is a Telegram target, not an address
        with contextlib.suppress(EmailNotValidError):  # not an address: the other candidates stay
            candidates.add(validate_email(target, check_deliverability=False).normalized)
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.channel.in_(PERSONAL_CHANNELS), Subscription.target.in_(candidates))
            .order_by(Subscription.id)
        )
    )


def export(session: Session, target: str) -> dict[str, Any]:
    """Everything held about ``target``: whether it is on the suppression list, and per
    subscription its fields (never its secrets or unsubscribe token), consent events,
    sign-up requests, deliveries with the announcement type and every attempt, and digests."""
    subscriptions = find(session, target)
    hashes = {suppression_hash(s.channel, s.target) for s in subscriptions} | {
        suppression_hash(channel, target) for channel in PERSONAL_CHANNELS
    }
    suppressed = session.scalar(
        select(func.count()).select_from(Suppression).where(Suppression.target_hash.in_(hashes))
    )
    _audit(session, "subscriber.export", subscriptions)
    return {
        "target": target,
        "suppressed": bool(suppressed),
        "subscriptions": [_subscription(session, s) for s in subscriptions],
    }


def _subscription(session: Session, sub: Subscription) -> dict[str, Any]:
    consent = session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscription_id == sub.id).order_by(ConsentEvent.at, ConsentEvent.id)
    )
    requests = session.scalars(
        select(SubscribeRequest).where(SubscribeRequest.subscription_id == sub.id).order_by(SubscribeRequest.id)
    )
    deliveries = session.execute(
        select(Delivery, Announcement.type)
        .join(Announcement, Announcement.id == Delivery.announcement_id)
        .where(Delivery.subscription_id == sub.id)
        .order_by(Delivery.created_at, Delivery.id)
    ).all()
    attempts: dict[str, list[dict[str, Any]]] = {}
    for attempt in session.scalars(
        select(DeliveryAttempt)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.subscription_id == sub.id)
        .order_by(DeliveryAttempt.attempted_at, DeliveryAttempt.id)
    ):
        attempts.setdefault(attempt.delivery_id, []).append(
            {
                "attempted_at": _iso(attempt.attempted_at),
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            }
        )
    digests = session.scalars(select(Digest).where(Digest.subscription_id == sub.id).order_by(Digest.period_start))
    return {
        "id": sub.id,
        "channel": sub.channel,
        "target": sub.target,
        "status": sub.status,
        "status_reason": sub.status_reason,
        "categories": list(sub.categories),
        "events": list(sub.events),
        "frequency": sub.frequency,
        "digest_since": _iso(sub.digest_since),
        "locale": sub.locale,
        "options": dict(sub.options or {}),
        "created_at": _iso(sub.created_at),
        "updated_at": _iso(sub.updated_at),
        "last_success_at": _iso(sub.last_success_at),
        "failing_since": _iso(sub.failing_since),
        "consent": [
            {
                "at": _iso(e.at),
                "action": e.action,
                "channel": e.channel,
                "method": e.method,
                "text_version": e.text_version,
                "client_address": e.client_address,
                "detail": e.detail,
            }
            for e in consent
        ],
        "signup_requests": [
            {
                "created_at": _iso(r.created_at),
                "expires_at": _iso(r.expires_at),
                "used_at": _iso(r.used_at),
                "client_address": r.client_address,
                "categories": list(r.categories),
                "frequency": r.frequency,
                "consent_version": r.consent_version,
            }
            for r in requests
        ],
        "deliveries": [
            {
                "id": d.id,
                "announcement_id": d.announcement_id,
                "event": event_type,
                "status": d.status,
                "attempts": d.attempts,
                "created_at": _iso(d.created_at),
                "next_attempt_at": _iso(d.next_attempt_at),
                "delivered_at": _iso(d.delivered_at),
                "last_status_code": d.last_status_code,
                "last_error": d.last_error,
                "attempt_log": attempts.get(d.id, []),
            }
            for d, event_type in deliveries
        ],
        "digests": [
            {
                "frequency": g.frequency,
                "period_start": _iso(g.period_start),
                "covers_from": _iso(g.covers_from),
                "status": g.status,
                "article_ids": list(g.article_ids),
                "delivery_id": g.delivery_id,
            }
            for g in digests
        ],
    }


def forget(session: Session, target: str, now: datetime) -> int:
    """Erase ``target``'s personal data; returns how many subscriptions it had. Repeating is harmless."""
    subscriptions = find(session, target)
    for sub in subscriptions:
        digest = suppression_hash(sub.channel, sub.target)
        if session.get(Suppression, digest) is None:
            session.add(Suppression(target_hash=digest, reason="forgotten", created_at=now))
        session.execute(delete(ConsentEvent).where(ConsentEvent.subscription_id == sub.id))
        # A kept API answer quotes the address (and a webhook's secret): decision 29.
        session.execute(delete(IdempotentRequest).where(IdempotentRequest.subscription_id == sub.id))
        session.execute(delete(SubscribeRequest).where(SubscribeRequest.subscription_id == sub.id))
        delivery_ids = select(Delivery.id).where(Delivery.subscription_id == sub.id).scalar_subquery()
        # An error text may quote the address (an SMTP refusal does): blanked, the counts stay.
        session.execute(
            update(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(delivery_ids), DeliveryAttempt.error.is_not(None))
            .values(error="[forgotten]")
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == sub.id)
            .values(last_error=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Delivery)
            .where(
                Delivery.subscription_id == sub.id,
                or_(Delivery.status == DeliveryStatus.PENDING, Delivery.status == DeliveryStatus.SENDING),
            )
            .values(status=DeliveryStatus.FAILED.value, lease_until=None, claim_token=None, last_error="forgotten")
            .execution_options(synchronize_session=False)
        )
        sub.target = f"forgotten:{sub.id}"
        sub.status = SubscriptionStatus.DISABLED.value
        sub.status_reason = FORGOTTEN
        sub.categories = []
        sub.events = []
        sub.options = {}
        sub.secret = None
        sub.previous_secret = None
        sub.unsubscribe_token = secrets.token_urlsafe(32)
        sub.updated_at = now
    session.flush()
    _audit(session, "subscriber.forget", subscriptions, now)
    return len(subscriptions)


def _audit(session: Session, action: str, subscriptions: list[Subscription], now: datetime | None = None) -> None:
    """The audit row of an export or a forget: the subscriptions by id, never the address
    (the log outlives the personal data it would otherwise keep)."""
    ids = ",".join(str(s.id) for s in subscriptions) or None
    record(session, action, "subscriber", ids, None, {"subscriptions": len(subscriptions)}, now)


def is_suppressed(session: Session, channel: str, target: str) -> bool:
    """Whether this channel and target were forgotten on request (their SHA-256 is on the suppression list)."""
    return session.get(Suppression, suppression_hash(channel, target)) is not None
