"""Hub side of W3C WebSub: subscription requests, verification of intent, leases and
content distribution planning. Subscribers are ``Subscription`` rows with channel
``websub``, so content goes out through the same delivery rows, retries and log."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.categories import public_category
from service.channels.egress import EgressDenied, check_url, policy_for
from service.channels.http import GuardedHttp, HttpFailure, new_http_session
from service.db.models import FeedDocument, Subscription, SubscriptionStatus
from service.deliveries.planning import create_announcement, insert_deliveries
from service.errors import DomainError, InvalidField
from service.feeds.render import FILENAMES
from service.feeds.scopes import SITE, category_scope, category_slug
from service.feeds.urls import feed_url
from service.inputs import is_slug
from service.urls import with_query
from service.websub.announcements import FEED_UPDATED

log = logging.getLogger(__name__)
MAX_SECRET_BYTES = 199  # "less than 200 bytes" (WebSub §5.1)
CHANNEL = "websub"
# A verification the broker lost is sent again this many times, then ends as failed.
MAX_VERIFICATION_RESENDS = 3
# How long a client should wait after a 429: about the time a verification takes.
BUSY_RETRY_AFTER_SECONDS = 60
# A pending request older than this has ended (resent at most MAX_VERIFICATION_RESENDS times).
IN_FLIGHT_WINDOW = timedelta(hours=1)


class HubBusy(DomainError):
    """Too many verifications in flight for this callback host or in total: answer 429."""

    def __init__(self, message: str, retry_after: int = BUSY_RETRY_AFTER_SECONDS) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
    """The feed URL a subscriber names as ``hub.topic`` (the feed's own self URL)."""
    return feed_url(settings.base_url, scope, fmt)


def _topic_scope(topic: str, settings: Settings) -> tuple[str, str] | None:
    prefix = f"{settings.base_url}/feeds/"
    if not topic.startswith(prefix):
        return None
    rest = topic[len(prefix) :].split("/")
    formats = {filename: fmt for fmt, filename in FILENAMES.items()}
    if len(rest) == 1 and rest[0] in formats:
        return SITE, formats[rest[0]]
    if len(rest) == 3 and rest[0] == "categories" and rest[2] in formats and is_slug(rest[1]):
        return category_scope(rest[1]), formats[rest[2]]
    return None


def _public_scope(session: Session, scope: str) -> bool:
    """A category's feeds are topics only while it is public (service/articles/categories.py)."""
    slug = category_slug(scope)
    return slug is None or public_category(session, slug=slug) is not None


def parse_request(session: Session, form: Mapping[str, str], settings: Settings) -> HubRequest:
    """A validated hub request; InvalidField names the hub.* parameter that is wrong.

    The callback passes the egress guard's checks (scheme, length, characters, a public
    or allow-listed address) before anything is stored or a verification is queued.
    """
    mode = form.get("hub.mode", "")
    if mode not in {"subscribe", "unsubscribe"}:
        raise InvalidField("hub.mode", "hub_mode")
    callback = form.get("hub.callback", "").strip()
    if not callback:
        raise InvalidField("hub.callback", "required")
    try:
        check_url(callback, policy_for(settings.egress_allow))
    except EgressDenied as exc:
        raise InvalidField("hub.callback", exc.code, **exc.params) from None
    topic = form.get("hub.topic", "").strip()
    scoped = _topic_scope(topic, settings)
    if scoped is None or session.get(FeedDocument, scoped) is None or not _public_scope(session, scoped[0]):
        raise InvalidField("hub.topic", "not_our_feed", example=f"{settings.base_url}/feeds/atom.xml")
    lease = settings.websub_default_lease_seconds
    if form.get("hub.lease_seconds"):
        try:
            lease = int(form["hub.lease_seconds"])
        except ValueError:
            raise InvalidField("hub.lease_seconds", "whole_seconds") from None
        if lease <= 0:
            raise InvalidField("hub.lease_seconds", "positive")
    # The hub chooses the lease within its bounds and tells the subscriber in the verification.
    lease = max(settings.websub_min_lease_seconds, min(lease, settings.websub_max_lease_seconds))
    secret = form.get("hub.secret") or None
    if secret is not None and len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise InvalidField("hub.secret", "less_than_bytes", limit=MAX_SECRET_BYTES + 1)
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
    """The intent to verify for a WebSub subscription, or None when there is none."""
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
    """GET the callback with a challenge (WebSub §5.3); True when it is echoed with a 2xx.

    Through the same guarded HTTP client as deliveries. Never raises: a verification that
    fails for any reason is an unconfirmed intent, which ends the request.
    """
    try:
        return asyncio.run(_ask(verification, settings))
    except Exception:
        log.exception("websub: verification of subscription %s failed", verification.subscription_id)
        return False


async def _ask(verification: Verification, settings: Settings) -> bool:
    challenge = secrets.token_urlsafe(24)
    params = {"hub.mode": verification.mode, "hub.topic": verification.topic, "hub.challenge": challenge}
    if verification.mode == "subscribe":
        params["hub.lease_seconds"] = str(verification.lease_seconds)
    # §5.3: the callback's own query is kept and the hub's parameters appended to it.
    url = with_query(verification.callback, params)
    async with new_http_session(settings) as session:
        http = GuardedHttp(session, policy_for(settings.egress_allow))
        try:
            # The echo is the challenge alone; more than a little of a body is not an echo.
            answer = await http.get_guarded(url, headers={"User-Agent": "Bantin-WebSub/1"}, max_bytes=4096)
        except (EgressDenied, HttpFailure) as exc:
            log.info("websub: verification of %s failed: %s", verification.callback, exc)
            return False
    if not 200 <= answer.status_code < 300 or answer.text.strip() != challenge:
        log.info("websub: %s did not confirm (HTTP %s)", verification.callback, answer.status_code)
        return False
    return True


def apply_verification(session: Session, subscription_id: int, confirmed: bool, now: datetime) -> None:
    """Record the subscriber's answer to a verification of intent (WebSub §5.3).

    A confirmed subscribe activates with the new secret and lease; a confirmed
    unsubscribe deletes; a new subscription that was not confirmed is deleted, an
    existing one keeps its state.
    """
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
    """Disable active WebSub subscriptions whose lease ended before ``now``; returns how many."""
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
    """Requests whose verification did not finish (the broker lost the task, or it died),
    to be sent again. Each is sent again at most MAX_VERIFICATION_RESENDS times; then it
    ends as unconfirmed, so no request loops for ever."""
    rows = session.scalars(
        select(Subscription).where(Subscription.channel == CHANNEL, Subscription.updated_at < now - older_than)
    ).all()
    resend: list[int] = []
    for subscription in rows:
        pending = (subscription.options or {}).get("pending")
        if not pending:
            continue
        resent = int(pending.get("resent", 0))
        if resent >= MAX_VERIFICATION_RESENDS:
            log.warning("websub: verification of %s never finished; request ended", subscription.target)
            apply_verification(session, subscription.id, False, now)
            continue
        subscription.options = {"pending": {**pending, "resent": resent + 1}}
        subscription.updated_at = now
        resend.append(subscription.id)
    return resend


def check_capacity(session: Session, callback: str, settings: Settings, now: datetime) -> None:
    """Refuse a flood: at most ``websub_pending_per_host`` verifications in flight for one
    callback host and ``websub_pending_total`` in all; HubBusy (429) otherwise."""
    host = (urlsplit(callback).hostname or "").lower()
    rows = session.execute(
        select(Subscription.target, Subscription.options).where(
            Subscription.channel == CHANNEL, Subscription.updated_at >= now - IN_FLIGHT_WINDOW
        )
    ).all()
    in_flight = [target for target, options in rows if (options or {}).get("pending")]
    if len(in_flight) >= settings.websub_pending_total:
        raise HubBusy("too many subscription requests are awaiting verification; try again later")
    same_host = sum(1 for target in in_flight if (urlsplit(target).hostname or "").lower() == host)
    if same_host >= settings.websub_pending_per_host:
        raise HubBusy(f"too many subscription requests for {host} are awaiting verification; try again later")


def plan_feed_updates(
    session: Session, changed: Mapping[str, Sequence[str]], now: datetime, settings: Settings
) -> list[str]:
    """One content-distribution delivery per verified subscriber of each changed feed."""
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
                session, f"feed:{scope}:{fmt}:{etag}", FEED_UPDATED, {"scope": scope, "format": fmt}, now
            )
            if announcement_id is not None:
                planned += insert_deliveries(session, announcement_id, subscriber_ids, now, settings)
    return planned
