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
from typing import Annotated, Any, Self

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, PlainSerializer
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


# Every instant as ``datetime.isoformat`` writes it ("2027-02-03T01:00:00.123456+00:00"),
# as the export always has; pydantic's own format would write "Z" for UTC.
Instant = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


class Exported(BaseModel):
    """A record of the export: the fields of a row of the same names, and what the caller adds."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, row: object, **added: Any) -> Self:
        """``row``'s attributes named like the fields, ``added`` for the others (or instead)."""
        values = {name: added[name] if name in added else getattr(row, name) for name in cls.model_fields}
        return cls.model_validate(values)


class AttemptRecord(Exported):
    """One attempt at a delivery (``DeliveryAttempt``)."""

    attempted_at: Instant
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRecord(Exported):
    """One delivery (``Delivery``), the type of its announcement and its attempts, oldest first."""

    id: str
    announcement_id: int
    event: str
    status: str
    attempts: int
    created_at: Instant
    next_attempt_at: Instant
    delivered_at: Instant | None
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[AttemptRecord]


class ConsentRecord(Exported):
    """One consent event (``ConsentEvent``)."""

    at: Instant
    action: str
    channel: str
    method: str
    text_version: str | None
    client_address: str | None
    detail: dict[str, Any]


class SignupRequestRecord(Exported):
    """One sign-up request (``SubscribeRequest``), without its token."""

    created_at: Instant
    expires_at: Instant
    used_at: Instant | None
    client_address: str | None
    categories: list[str]
    frequency: str
    consent_version: str


class DigestRecord(Exported):
    """One digest planned for the subscriber (``Digest``)."""

    frequency: str
    period_start: Instant
    covers_from: Instant
    status: str
    article_ids: list[int]
    delivery_id: str | None


class SubscriptionRecord(Exported):
    """One subscription's fields (never its secrets or unsubscribe token) and everything held with it."""

    id: int
    channel: str
    target: str
    status: str
    status_reason: str | None
    categories: list[str]
    events: list[str]
    frequency: str
    digest_since: Instant | None
    locale: str
    options: dict[str, Any]
    created_at: Instant
    updated_at: Instant
    last_success_at: Instant | None
    failing_since: Instant | None
    consent: list[ConsentRecord]
    signup_requests: list[SignupRequestRecord]
    deliveries: list[DeliveryRecord]
    digests: list[DigestRecord]


class PrivacyExport(BaseModel):
    """Everything held about one target (``bantin subscribers export``, ``GET /api/v1/subscribers/export``)."""

    target: str
    suppressed: bool
    subscriptions: list[SubscriptionRecord]


def export(session: Session, target: str) -> PrivacyExport:
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
    return PrivacyExport(
        target=target, suppressed=bool(suppressed), subscriptions=[_subscription(session, s) for s in subscriptions]
    )


def _subscription(session: Session, sub: Subscription) -> SubscriptionRecord:
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
    attempts: dict[str, list[AttemptRecord]] = {}
    for attempt in session.scalars(
        select(DeliveryAttempt)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.subscription_id == sub.id)
        .order_by(DeliveryAttempt.attempted_at, DeliveryAttempt.id)
    ):
        attempts.setdefault(attempt.delivery_id, []).append(AttemptRecord.of(attempt))
    digests = session.scalars(select(Digest).where(Digest.subscription_id == sub.id).order_by(Digest.period_start))
    return SubscriptionRecord.of(
        sub,
        options=sub.options or {},
        consent=[ConsentRecord.of(event) for event in consent],
        signup_requests=[SignupRequestRecord.of(request) for request in requests],
        deliveries=[
            DeliveryRecord.of(delivery, event=event_type, attempt_log=attempts.get(delivery.id, []))
            for delivery, event_type in deliveries
        ],
        digests=[DigestRecord.of(digest) for digest in digests],
    )


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
