"""Hub side of W3C WebSub: subscription requests, verification of intent, leases and
content distribution planning. Subscribers are ``Subscription`` rows with channel
``websub``, so content goes out through the same delivery rows, retries and log."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from service.channels.egress import EgressDenied, check_url, policy_for
from service.db.models import FeedDocument, Subscription, SubscriptionStatus
from service.deliveries.planning import create_announcement, insert_deliveries
from service.errors import InvalidField
from service.feeds.render import FILENAMES
from service.feeds.scopes import SITE, category_scope, feed_path

log = logging.getLogger(__name__)
MAX_SECRET_BYTES = 199  # "less than 200 bytes" (WebSub §5.1)
CHANNEL = "websub"


@dataclass(frozen=True)
class HubRequest:
    mode: str
    callback: str
    topic: str
    scope: str
    format: str
    lease_seconds: int
    secret: str | None


def topic_url(settings: Settings, scope: str, fmt: str) -> str:
    return f"{settings.base_url}{feed_path(scope)}/{FILENAMES[fmt]}"


def _topic_scope(topic: str, settings: Settings) -> tuple[str, str] | None:
    prefix = f"{settings.base_url}/feeds/"
    if not topic.startswith(prefix):
        return None
    rest = topic[len(prefix) :].split("/")
    formats = {filename: fmt for fmt, filename in FILENAMES.items()}
    if len(rest) == 1 and rest[0] in formats:
        return SITE, formats[rest[0]]
    if len(rest) == 3 and rest[0] == "categories" and rest[2] in formats and rest[1]:
        return category_scope(rest[1]), formats[rest[2]]
    return None


def parse_request(session: Session, form: Mapping[str, str]) -> HubRequest:
    """A validated hub request; InvalidField names the hub.* parameter that is wrong."""
    settings = get_settings()
    mode = form.get("hub.mode", "")
    if mode not in {"subscribe", "unsubscribe"}:
        raise InvalidField("hub.mode", "must be subscribe or unsubscribe")
    callback = form.get("hub.callback", "").strip()
    if not callback:
        raise InvalidField("hub.callback", "is required")
    try:
        check_url(callback, policy_for(settings.egress_allow))
    except EgressDenied as exc:
        raise InvalidField("hub.callback", str(exc)) from None
    topic = form.get("hub.topic", "").strip()
    scoped = _topic_scope(topic, settings)
    if scoped is None or session.get(FeedDocument, scoped) is None:
        raise InvalidField("hub.topic", f"is not a feed of this hub (e.g. {settings.base_url}/feeds/atom.xml)")
    lease = settings.websub_default_lease_seconds
    if form.get("hub.lease_seconds"):
        try:
            lease = int(form["hub.lease_seconds"])
        except ValueError:
            raise InvalidField("hub.lease_seconds", "must be a whole number of seconds") from None
        if lease <= 0:
            raise InvalidField("hub.lease_seconds", "must be positive")
    # The hub chooses the lease within its bounds and tells the subscriber in the verification.
    lease = max(settings.websub_min_lease_seconds, min(lease, settings.websub_max_lease_seconds))
    secret = form.get("hub.secret") or None
    if secret is not None and len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise InvalidField("hub.secret", "must be less than 200 bytes")
    return HubRequest(mode, callback, topic, scoped[0], scoped[1], lease, secret)


def _existing(session: Session, callback: str, topic: str) -> Subscription | None:
    return session.scalars(
        select(Subscription).where(
            Subscription.channel == CHANNEL, Subscription.target == callback, Subscription.topic == topic
        )
    ).first()


def record_request(session: Session, request: HubRequest, now: datetime) -> int | None:
    """Keep the request until its intent is verified; returns the subscription to verify."""
    subscription = _existing(session, request.callback, request.topic)
    if subscription is None:
        if request.mode == "unsubscribe":
            return None  # nothing to undo
        subscription = Subscription(
            channel=CHANNEL,
            target=request.callback,
            topic=request.topic,
            events=[],
            categories=[],
            locale="vi",
            options={},
            status=SubscriptionStatus.PENDING.value,
            status_reason="awaiting verification",
            unsubscribe_token=secrets.token_urlsafe(32),
            created_at=now,
        )
        session.add(subscription)
    # Nothing changes until the subscriber confirms: the request waits in options.
    subscription.options = {
        "pending": {
            "mode": request.mode,
            "lease_seconds": request.lease_seconds,
            "secret": request.secret,
            "scope": request.scope,
            "format": request.format,
        }
    }
    subscription.updated_at = now
    session.flush()
    return subscription.id


@dataclass(frozen=True)
class Verification:
    subscription_id: int
    callback: str
    topic: str
    mode: str
    lease_seconds: int


def pending_verification(session: Session, subscription_id: int) -> Verification | None:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.channel != CHANNEL:
        return None
    pending = (subscription.options or {}).get("pending")
    if not pending:
        return None
    return Verification(
        subscription.id, subscription.target, subscription.topic or "", pending["mode"], int(pending["lease_seconds"])
    )


def ask_subscriber(verification: Verification, settings: Settings) -> bool:
    """GET the callback with a challenge (WebSub §5.3); True when it is echoed with a 2xx."""
    challenge = secrets.token_urlsafe(24)
    params = {"hub.mode": verification.mode, "hub.topic": verification.topic, "hub.challenge": challenge}
    if verification.mode == "subscribe":
        params["hub.lease_seconds"] = str(verification.lease_seconds)
    try:
        target = check_url(verification.callback, policy_for(settings.egress_allow))
        with httpx.Client(timeout=settings.delivery_timeout_seconds, follow_redirects=False) as client:
            response = client.get(
                target.url, params=params, headers={"Host": target.netloc}, extensions={"sni_hostname": target.host}
            )
    except (EgressDenied, httpx.HTTPError) as exc:
        log.info("websub: verification of %s failed: %s", verification.callback, exc)
        return False
    return 200 <= response.status_code < 300 and response.text.strip() == challenge


def apply_verification(session: Session, subscription_id: int, confirmed: bool, now: datetime) -> None:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None:
        return
    pending = (subscription.options or {}).get("pending")
    if not pending:
        return
    subscription.options = {}
    subscription.updated_at = now
    if pending["mode"] == "subscribe" and confirmed:
        subscription.status = SubscriptionStatus.ACTIVE.value
        subscription.status_reason = None
        subscription.secret = pending.get("secret")
        subscription.lease_expires_at = now + timedelta(seconds=int(pending["lease_seconds"]))
        subscription.failing_since = None
    elif pending["mode"] == "unsubscribe" and confirmed:
        session.delete(subscription)
    elif subscription.status == SubscriptionStatus.PENDING:
        session.delete(subscription)  # a new subscription the callback did not confirm


def expire_leases(session: Session, now: datetime) -> int:
    expired = session.scalars(
        select(Subscription).where(
            Subscription.channel == CHANNEL,
            Subscription.status == SubscriptionStatus.ACTIVE,
            Subscription.lease_expires_at < now,
        )
    ).all()
    for subscription in expired:
        subscription.status = SubscriptionStatus.DISABLED.value
        subscription.status_reason = "lease expired"
        subscription.updated_at = now
    return len(expired)


def lost_verifications(session: Session, now: datetime, older_than: timedelta) -> list[int]:
    """Requests whose verification task never ran (the broker lost it)."""
    rows = session.scalars(
        select(Subscription).where(Subscription.channel == CHANNEL, Subscription.updated_at < now - older_than)
    ).all()
    return [s.id for s in rows if (s.options or {}).get("pending")]


def plan_feed_updates(session: Session, changed: Mapping[str, Sequence[str]], now: datetime) -> list[str]:
    """One content-distribution delivery per verified subscriber of each changed feed."""
    settings = get_settings()
    planned: list[str] = []
    for scope, formats in changed.items():
        for fmt in formats:
            topic = topic_url(settings, scope, fmt)
            subscriber_ids = list(
                session.scalars(
                    select(Subscription.id).where(
                        Subscription.channel == CHANNEL,
                        Subscription.status == SubscriptionStatus.ACTIVE,
                        Subscription.topic == topic,
                    )
                )
            )
            if not subscriber_ids:
                continue
            document = session.get(FeedDocument, (scope, fmt))
            etag = document.etag.strip('"') if document else now.isoformat()
            announcement_id = create_announcement(
                session, f"feed:{scope}:{fmt}:{etag}", "feed.updated", {"scope": scope, "format": fmt}, now
            )
            if announcement_id is not None:
                planned += insert_deliveries(session, announcement_id, subscriber_ids, now)
    return planned
