"""Subscription lifecycle. Functions take a session and never commit."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.audit.log import fields, record
from service.channels.egress import policy_for
from service.channels.registry import CHANNELS
from service.channels.webhook import new_secret
from service.db.models import Delivery, DeliveryStatus, Subscription, SubscriptionStatus, Suppression
from service.deliveries.planning import Named, plan_announcement
from service.errors import Conflict, NotFound
from service.i18n import N_, gettext, use_language
from service.readers.consent import record_consent
from service.readers.signup import suppression_hash
from service.subscriptions.announcements import TEST_MESSAGE
from service.subscriptions.schemas import SubscriptionCreate, SubscriptionUpdate

# Chat webhook and Apprise URLs are credentials: anyone holding one can post to the channel.
# What secrets.token_urlsafe(32) makes: 43 characters of the URL-safe base64 alphabet.
UNSUBSCRIBE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
SECRET_URL_CHANNELS = frozenset({"slack", "discord", "teams", "apprise"})
# What a test message says, in the subscription's language (its kind: subscriptions/announcements.py).
TEST_MESSAGE_TEXT = N_("Kênh này đã được nối với bản tin. Nếu bạn đọc được dòng này, tin sẽ đến đây.")
# Channels whose target is a person (an address, a chat): personal data under Decree 13/2023/NĐ-CP.
PERSONAL_CHANNELS = frozenset({"email", "telegram", "zalo", "web_push"})
# A Page posts each article once and deletes the post when the article is withdrawn: its
# subscription takes these events whatever it asks for (an update must not post again;
# decision 0039).
PAGE_EVENTS = {"facebook": ("article.published", "article.withdrawn")}


def listed_target(subscription: Subscription) -> str:
    """The target as lists show it: credential-bearing URLs cut to their last four characters."""
    if subscription.channel not in SECRET_URL_CHANNELS:
        return subscription.target
    head, _, tail = subscription.target.rpartition("/")
    return f"{head}/…{tail[-4:]}" if head else "…"


def audited(subscription: Subscription) -> dict[str, object]:
    """What the audit log keeps of a subscription: a program's address shortened as lists
    show it (a webhook's path may hold a secret), never a person's (the log outlives a
    forget request), its secret or its options."""
    kept = fields(subscription, ("channel", "events", "categories", "locale", "status"))
    if subscription.channel in PERSONAL_CHANNELS:
        return kept
    return {**kept, "target": listed_target(subscription)}


def _validated_target(channel: str, target: str, options: dict[str, object], settings: Settings) -> str:
    return CHANNELS[channel].validate_target(target, options, policy_for(settings.egress_allow))


def create_subscription(
    session: Session, data: SubscriptionCreate, now: datetime, settings: Settings
) -> tuple[Subscription, str | None]:
    """The new subscription and, for a webhook, its signing secret (shown once)."""
    target = _validated_target(data.channel, data.target, data.options, settings)
    if session.get(Suppression, suppression_hash(data.channel, target)) is not None:
        raise Conflict(
            "this subscriber asked to be forgotten; only they can subscribe again "
            "(through /subscribe, or by following the Zalo Official Account again)"
        )
    secret = new_secret() if data.channel == "webhook" else None
    subscription = Subscription(
        channel=data.channel,
        target=target,
        events=list(PAGE_EVENTS.get(data.channel, data.events)),
        categories=list(data.categories),
        locale=data.locale,
        options=dict(data.options),
        status=SubscriptionStatus.ACTIVE.value,
        secret=secret,
        unsubscribe_token=secrets.token_urlsafe(32),
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    session.flush()
    record(session, "subscription.create", "subscription", subscription.id, None, audited(subscription), now)
    if data.channel in PERSONAL_CHANNELS:
        # A person's address or chat added by an admin: the admin vouches for the consent.
        record_consent(
            session, subscription_id=subscription.id, action="given", channel=data.channel, method="admin", now=now
        )
    return subscription, secret


def get_subscription(session: Session, subscription_id: int, *, for_update: bool = False) -> Subscription:
    """The subscription with this id (WebSub subscribers and staff notification addresses
    excluded: each has its own place), row-locked (SELECT … FOR UPDATE) when ``for_update``;
    NotFound otherwise."""
    subscription = session.get(Subscription, subscription_id, with_for_update=for_update)
    if subscription is None or subscription.channel == "websub" or subscription.status == SubscriptionStatus.STAFF:
        raise NotFound(f"subscription {subscription_id} does not exist")
    return subscription


def list_subscriptions(
    session: Session, *, status: str | None = None, channel: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Subscription], int]:
    """A page of subscriptions by id, filtered by status and channel, and the total matching."""
    # A staff member's notification address is theirs to set (service/staff), not a reader's.
    query = select(Subscription).where(
        Subscription.channel != "websub", Subscription.status != SubscriptionStatus.STAFF
    )
    if status:
        query = query.where(Subscription.status == status)
    if channel:
        query = query.where(Subscription.channel == channel)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Subscription.id).limit(limit).offset(offset)).all()
    return list(rows), total


def update_subscription(
    session: Session, subscription_id: int, data: SubscriptionUpdate, now: datetime, settings: Settings
) -> Subscription:
    """Apply a PATCH; a new target is validated by its channel (InvalidField), and
    re-activating clears the failure state. NotFound for an unknown id.
    """
    subscription = get_subscription(session, subscription_id)
    before = audited(subscription)
    changes = data.changes()
    if "target" in changes:
        options = changes.get("options", subscription.options)
        changes["target"] = _validated_target(subscription.channel, changes["target"], options, settings)
    status = changes.pop("status", None)
    if subscription.channel in PAGE_EVENTS:
        changes.pop("events", None)
    for name, value in changes.items():
        setattr(subscription, name, value)
    if status is not None and status != subscription.status:
        subscription.status = status
        subscription.status_reason = None if status == SubscriptionStatus.ACTIVE else "paused by an admin"
        if status == SubscriptionStatus.ACTIVE:
            subscription.failing_since = None
            # What waited while it was paused (a Page whose token Facebook refused) goes now,
            # not when the claim's next look at a held delivery comes round.
            session.execute(
                update(Delivery)
                .where(Delivery.subscription_id == subscription.id, Delivery.status == DeliveryStatus.PENDING)
                .values(next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
    subscription.updated_at = now
    session.flush()
    record(session, "subscription.update", "subscription", subscription.id, before, audited(subscription), now)
    return subscription


def delete_subscription(session: Session, subscription_id: int) -> None:
    """Delete a subscription; NotFound for an unknown id."""
    subscription = get_subscription(session, subscription_id)
    record(session, "subscription.delete", "subscription", subscription.id, audited(subscription))
    session.delete(subscription)
    session.flush()


def rotate_secret(
    session: Session, subscription_id: int, now: datetime, settings: Settings
) -> tuple[Subscription, str]:
    """A new webhook secret; the old one still signs, next to it, for the overlap window.

    The row is locked: of two rotations at once, the second keeps the first one's new
    secret as its previous one, instead of both keeping the original and one new secret
    never signing anything (decision 0027)."""
    subscription = get_subscription(session, subscription_id, for_update=True)
    if subscription.channel != "webhook":
        raise Conflict("only webhook subscriptions have a signing secret")
    overlap = timedelta(seconds=settings.secret_rotation_overlap_seconds)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + overlap
    subscription.secret = new_secret()
    subscription.updated_at = now
    session.flush()
    record(
        session,
        "subscription.rotate_secret",
        "subscription",
        subscription.id,
        {"secret": "old"},
        {"secret": "new"},
        now,
    )
    return subscription, subscription.secret


def send_test_message(session: Session, subscription_id: int, now: datetime, settings: Settings) -> str:
    """Plan a ``subscription.test`` announcement for this one subscription; returns its delivery id.

    It is a delivery row like any other (retries, the log, replay) and is sent once the
    caller commits. Each call is a new announcement, so a second test is a second message.
    NotFound for an unknown id; Conflict unless the subscription is active (a paused or
    disabled one would hold the message back, which is not what a test should show).
    """
    subscription = get_subscription(session, subscription_id)
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"subscription {subscription_id} is {subscription.status}; resume it first")
    with use_language(subscription.locale):
        message = gettext(TEST_MESSAGE_TEXT)
    planned = plan_announcement(
        session,
        source_key=f"test:{subscription_id}:{uuid.uuid4().hex}",
        event_type=TEST_MESSAGE,
        payload={
            "subscription_id": subscription_id,
            "message": message,
        },
        now=now,
        settings=settings,
        audience=Named((subscription_id,)),
    )
    return planned[0]


def unsubscribe(session: Session, token: str, now: datetime) -> Subscription | None:
    """One-click unsubscribe (RFC 8058); repeating it is harmless. None for an unknown token."""
    if not UNSUBSCRIBE_TOKEN.match(token):
        return None  # not one we made (and a NUL byte would make PostgreSQL refuse the query)
    # Locked: two clicks at once record one withdrawal of consent, not two (decision 0027).
    subscription = session.scalars(
        select(Subscription).where(Subscription.unsubscribe_token == token).with_for_update()
    ).one_or_none()
    if subscription is None:
        return None
    if subscription.status != SubscriptionStatus.DISABLED:
        subscription.status = SubscriptionStatus.DISABLED.value
        subscription.status_reason = "unsubscribed by the recipient"
        subscription.updated_at = now
        if subscription.channel in PERSONAL_CHANNELS:
            record_consent(
                session,
                subscription_id=subscription.id,
                action="withdrawn",
                channel=subscription.channel,
                method="form",
                now=now,
                detail={"via": "one-click unsubscribe (RFC 8058)"},
            )
    return subscription
