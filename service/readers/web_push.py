"""Readers who take notifications in their browser (Web Push, decision 0041).

A browser's push subscription (RFC 8030 §4; the W3C Push API's ``PushSubscription``:
endpoint, ``p256dh``, ``auth``) becomes a subscription of channel ``web_push``: the
endpoint its target, ``p256dh`` in its options, ``auth`` its secret (never listed, never
logged). No confirmation mail: the browser's own permission prompt, after the reader
pressed the button beside the consent text, is the reader's act (consent recorded with
method ``browser`` and that text's version, ``WEB_PUSH_VERSION``).

One endpoint is one subscription: subscribing again from the same browser updates its keys
and categories (consent ``changed``); unsubscribing needs the endpoint and its ``auth``
secret, which only that browser holds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.channels.base import RateLimiter
from service.channels.egress import policy_for
from service.channels.web_push import WebPushChannel, check_keys
from service.db.locks import transaction_lock
from service.db.models import Subscription, SubscriptionStatus, Suppression
from service.errors import InvalidField
from service.readers.consent import record_consent
from service.readers.signup import known_categories, suppression_hash, throttle
from service.web.push_consent import WEB_PUSH_VERSION

CHANNEL = "web_push"
MAX_ENDPOINT = 2000  # what the subscriptions' target index takes (service/subscriptions/schemas.py)
MAX_CATEGORIES = 50


@dataclass(frozen=True)
class BrowserSubscription:
    """What a browser's ``PushSubscription.toJSON()`` gives, and what the reader chose."""

    endpoint: str
    p256dh: str
    auth: str
    categories: tuple[str, ...] = ()
    locale: str = "vi"


def _find(session: Session, endpoint: str) -> Subscription | None:
    return session.scalars(
        select(Subscription)
        .where(Subscription.channel == CHANNEL, Subscription.target == endpoint)
        .order_by(Subscription.id)
        .limit(1)
        .with_for_update()
    ).one_or_none()


def is_push_service(endpoint: str, services: tuple[str, ...]) -> bool:
    """Whether ``endpoint``'s host is one of ``services`` or under one of them
    (``wns2-par02p.notify.windows.com`` under ``notify.windows.com``)."""
    try:
        host = (urlsplit(endpoint).hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    return any(host == service or host.endswith("." + service) for service in services)


def subscribe_browser(
    session: Session,
    form: BrowserSubscription,
    client: str,
    now: datetime,
    settings: Settings,
    limiter: RateLimiter,
) -> Subscription:
    """Store (or update) the browser's subscription, active at once, with its consent.

    InvalidField (``endpoint``: not https or not a public address, the egress guard;
    ``p256dh``/``auth``: not a browser's keys; ``categories``: only unknown slugs) or
    ``signup.Refused`` (the hourly limits, BANTIN_SUBSCRIBE_PER_CLIENT_PER_HOUR and
    _PER_ADDRESS_PER_HOUR with the endpoint as the address), having stored nothing.
    """
    endpoint = form.endpoint.strip()
    if not endpoint:
        raise InvalidField("endpoint", "required")
    if len(endpoint) > MAX_ENDPOINT:
        raise InvalidField("endpoint", "too_long", length=len(endpoint), limit=MAX_ENDPOINT)
    if not is_push_service(endpoint, settings.web_push_service_hosts):
        # Checked before the egress guard's DNS lookup: an unknown host costs us nothing.
        raise InvalidField("endpoint", "not_push_service")
    try:
        endpoint = WebPushChannel().validate_target(endpoint, {}, policy_for(settings.egress_allow))
    except InvalidField as refused:
        raise InvalidField("endpoint", refused.code, **refused.params) from None
    p256dh, auth = check_keys(form.p256dh, form.auth)
    if len(form.categories) > MAX_CATEGORIES:
        raise InvalidField("categories", "too_many", count=len(form.categories), limit=MAX_CATEGORIES)
    categories = known_categories(session, list(form.categories))
    if form.categories and not categories:
        raise InvalidField("categories", "no_category_exists")
    # The endpoint's row may not exist yet: one subscriber per endpoint at a time (decision 0027).
    transaction_lock(session, f"web-push:{hashlib.sha256(endpoint.encode()).hexdigest()[:32]}")
    throttle(limiter, "web-push", client, endpoint, settings)
    subscription = _find(session, endpoint)
    action = "changed"
    if subscription is not None and not hmac.compare_digest(subscription.secret or "", auth):
        # A browser's endpoint keeps its keys for its life (Push API): other keys mean someone
        # who learnt the endpoint, who would take the subscription over (and lift a "forget me").
        raise InvalidField("auth", "push_keys_differ")
    if subscription is None:
        action = "given"
        subscription = Subscription(
            channel=CHANNEL,
            target=endpoint,
            events=[],
            unsubscribe_token=secrets.token_urlsafe(32),
            created_at=now,
        )
        session.add(subscription)
    subscription.options = {"p256dh": p256dh}
    subscription.secret = auth
    subscription.categories = categories
    subscription.locale = form.locale
    subscription.status = SubscriptionStatus.ACTIVE.value
    subscription.status_reason = None
    subscription.failing_since = None
    subscription.updated_at = now
    session.flush()
    # Asking again in person lifts an earlier "forget me".
    session.execute(delete(Suppression).where(Suppression.target_hash == suppression_hash(CHANNEL, endpoint)))
    record_consent(
        session,
        subscription_id=subscription.id,
        action=action,
        channel=CHANNEL,
        method="browser",
        now=now,
        text_version=WEB_PUSH_VERSION,
        client_address=client,
        detail={"categories": categories},
    )
    return subscription


def unsubscribe_browser(session: Session, endpoint: str, auth: str, client: str, now: datetime) -> bool:
    """Disable the subscription of ``endpoint`` when ``auth`` is its secret (only the browser
    holds it) and record the withdrawal; False when there is none to end (an unknown
    endpoint, a wrong secret, already ended): the same answer to the caller either way."""
    subscription = _find(session, endpoint.strip()[:MAX_ENDPOINT])
    if subscription is None or not subscription.secret:
        return False
    if not hmac.compare_digest(subscription.secret.encode(), auth.strip().encode()):
        return False
    if subscription.status == SubscriptionStatus.DISABLED:
        return False
    subscription.status = SubscriptionStatus.DISABLED.value
    subscription.status_reason = "unsubscribed in the browser"
    subscription.updated_at = now
    record_consent(
        session,
        subscription_id=subscription.id,
        action="withdrawn",
        channel=CHANNEL,
        method="browser",
        now=now,
        client_address=client,
    )
    return True
