"""Export and forget one subscriber (Decree 13/2023/NĐ-CP, art. 9: access and deletion).

Forget removes every personal field but keeps the subscription row as an anonymous
tombstone (its id, channel and the delivery rows' counts and times), so the delivery
log's totals stay true; a SHA-256 of the channel and target is kept as a suppression
entry, so an import or an admin cannot re-add the address unasked.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from service.db.models import (
    ConsentEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Digest,
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
    """The personal-channel subscriptions of an address or chat id (an address in any case)."""
    target = target.strip()
    candidates = {target, target.lower()}
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.channel.in_(PERSONAL_CHANNELS), Subscription.target.in_(candidates))
            .order_by(Subscription.id)
        )
    )


def export(session: Session, target: str) -> dict[str, Any]:
    """Everything held about ``target``: subscriptions, consent events, sign-up requests, deliveries, digests."""
    subscriptions = find(session, target)
    hashes = {suppression_hash(s.channel, s.target) for s in subscriptions} | {
        suppression_hash(channel, target) for channel in PERSONAL_CHANNELS
    }
    suppressed = session.scalar(
        select(func.count()).select_from(Suppression).where(Suppression.target_hash.in_(hashes))
    )
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
    deliveries = session.scalars(
        select(Delivery).where(Delivery.subscription_id == sub.id).order_by(Delivery.created_at, Delivery.id)
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
        "created_at": _iso(sub.created_at),
        "updated_at": _iso(sub.updated_at),
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
                "status": d.status,
                "attempts": d.attempts,
                "created_at": _iso(d.created_at),
                "delivered_at": _iso(d.delivered_at),
                "last_status_code": d.last_status_code,
                "last_error": d.last_error,
            }
            for d in deliveries
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
    return len(subscriptions)


def is_suppressed(session: Session, channel: str, target: str) -> bool:
    """Whether this channel and target were forgotten on request (their SHA-256 is on the suppression list)."""
    return session.get(Suppression, suppression_hash(channel, target)) is not None
