"""The preferences page behind a signed link: categories, frequency, pause, unsubscribe; and
asking for a fresh link by address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service import links
from service.announcements.links import PREFERENCES
from service.channels.base import RateLimiter
from service.db.models import Subscription, SubscriptionStatus
from service.deliveries.planning import EACH
from service.readers.consent import record_consent
from service.readers.schemas import PreferencesForm
from service.readers.signup import CONFIRMED, known_categories, send_manage_mail, throttle


def open_link(
    session: Session, subscription_id: int, signed: str, now: datetime, settings: Settings
) -> tuple[str, Subscription | None]:
    """(``ok`` | ``expired`` | ``invalid``, the subscription when ``ok``).

    Only a confirmed (active or paused) or unsubscribed reader e-mail subscription opens.
    """
    state = links.verify(settings.secret_key.get_secret_value(), PREFERENCES, str(subscription_id), signed, now)
    if state != "ok":
        return state, None
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.channel != "email" or subscription.status == SubscriptionStatus.PENDING:
        return "invalid", None
    if subscription.status_reason == FORGOTTEN:
        return "invalid", None
    return "ok", subscription


FORGOTTEN = "forgotten at the subscriber's request"


def request_link(session: Session, address: str, client: str, now: datetime, settings: Settings,
                 limiter: RateLimiter) -> None:  # fmt: skip
    """A reader asks for a fresh preferences link by their (normalised) address: a confirmed
    or unsubscribed reader subscription gets the "manage" mail (``MANAGE_MAIL``); any other
    address nothing. The caller answers the same either way, so the page tells nobody who
    subscribes. ``Refused`` (the sign-up's hourly limits, counted apart) before anything is read."""
    throttle(limiter, "preferences", client, address, settings)
    subscription = session.scalars(
        select(Subscription)
        .where(Subscription.channel == "email", Subscription.target == address)
        .order_by(Subscription.id)
        .limit(1)
    ).one_or_none()
    if subscription is None or subscription.status == SubscriptionStatus.PENDING:
        return
    if subscription.status_reason == FORGOTTEN:
        return
    send_manage_mail(session, subscription.id, now, settings)


def apply(session: Session, subscription: Subscription, form: PreferencesForm, client: str, now: datetime) -> str:
    """Carry out one action; returns it. Each change is a consent event (who, when, from where)."""
    action = form.action
    if action == "save":
        subscription.categories = known_categories(session, form.categories, subscription.categories)
        if subscription.frequency == EACH and form.frequency != EACH:
            # Until now every article went by itself: the first digest starts from here.
            subscription.digest_since = now
        subscription.frequency = form.frequency
        consent = "changed"
    elif action == "pause" and subscription.status in CONFIRMED:
        subscription.status = SubscriptionStatus.PAUSED.value
        subscription.status_reason = "paused by the reader"
        consent = "changed"
    elif action == "resume":
        subscription.status = SubscriptionStatus.ACTIVE.value
        subscription.status_reason = None
        subscription.failing_since = None
        consent = "given"
    elif action == "unsubscribe":
        subscription.status = SubscriptionStatus.DISABLED.value
        subscription.status_reason = "unsubscribed by the recipient"
        consent = "withdrawn"
    else:
        return "none"
    subscription.updated_at = now
    record_consent(
        session,
        subscription_id=subscription.id,
        action=consent,
        channel=subscription.channel,
        method="form",
        now=now,
        client_address=client,
        detail={"action": action, "categories": list(subscription.categories), "frequency": subscription.frequency},
    )
    return action
