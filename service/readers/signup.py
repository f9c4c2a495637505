"""Double opt-in: a sign-up asks, the confirmation link's POST subscribes.

Rules (listmonk's and Ghost's lessons, Decree 13/2023/NĐ-CP):
- nothing is subscribed before the link's POST; the address gets only the confirmation
  mail until then (a *pending* subscription is never planned for announcements);
- every accepted request gets the same answer, whatever the address's state: a new or
  pending address gets a confirmation mail, a confirmed one a "manage your subscription"
  mail, a bot (honeypot) nothing at all;
- refusals (rate limits, the per-domain cap) are decided before anything is written.
Every mail is a delivery row like any announcement: retried, logged, rate-limited.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service import links
from service.articles.categories import public_slugs
from service.channels.base import RateLimiter
from service.db.locks import transaction_lock
from service.db.models import Category, SubscribeRequest, Subscription, SubscriptionStatus, Suppression
from service.deliveries.planning import Named, plan_announcement
from service.errors import InvalidField
from service.readers.consent import CURRENT_VERSION, record_consent
from service.readers.schemas import SignupForm

# The kinds of the two mails a sign-up sends (their words: service/readers/announcements.py).
CONFIRM_MAIL = "reader.confirm"
MANAGE_MAIL = "reader.manage"
# The welcome a confirmation sends: what the reader chose and the way back to change it (issue 23 §3).
WELCOME_MAIL = "reader.subscribed"
CONFIRMED = frozenset({SubscriptionStatus.ACTIVE.value, SubscriptionStatus.PAUSED.value})
HOUR = 3600.0


class Refused(Exception):
    """A sign-up refused before anything was stored; ``reason`` is ``client``, ``address`` or ``domain``."""

    def __init__(self, reason: Literal["client", "address", "domain"], retry_after: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def suppression_hash(channel: str, target: str) -> str:
    """SHA-256 of ``channel:target`` (e-mail lower-cased): a forgotten subscriber, unreadable."""
    normalised = target.strip().lower() if channel == "email" else target.strip()
    return hashlib.sha256(f"{channel}:{normalised}".encode()).hexdigest()


def known_categories(session: Session, slugs: list[str], kept: Sequence[str] = ()) -> list[str]:
    """The slugs among ``slugs`` that a reader may choose, in the given order: public
    categories (``service/articles/categories.py``), and those in ``kept``, the reader's
    own choice from when they were public."""
    return public_slugs(session, slugs, kept)


def throttle(limiter: RateLimiter, purpose: str, client: str, address: str, settings: Settings) -> None:
    """Take one request of ``purpose`` from ``client``'s and ``address``'s hourly allowance
    (BANTIN_SUBSCRIBE_PER_CLIENT_PER_HOUR, _PER_ADDRESS_PER_HOUR); ``Refused`` when either is spent."""
    per_client = settings.subscribe_per_client_per_hour
    # Keys hold digests: neither an IP nor an address sits in Redis in clear.
    client_key = hashlib.sha256(client.encode()).hexdigest()[:32]
    wait = limiter.acquire(f"{purpose}:client:{client_key}", per_client / HOUR, per_client)
    if wait > 0:
        raise Refused("client", wait)
    per_address = settings.subscribe_per_address_per_hour
    address_key = hashlib.sha256(address.encode()).hexdigest()[:32]
    wait = limiter.acquire(f"{purpose}:address:{address_key}", per_address / HOUR, per_address)
    if wait > 0:
        raise Refused("address", wait)


def _check_limits(session: Session, form: SignupForm, client: str, now: datetime, settings: Settings,
                  limiter: RateLimiter) -> None:  # fmt: skip
    throttle(limiter, "subscribe", client, form.email, settings)
    pending = session.scalar(
        select(func.count())
        .select_from(SubscribeRequest)
        .where(
            SubscribeRequest.domain == form.domain,
            SubscribeRequest.used_at.is_(None),
            SubscribeRequest.expires_at > now,
        )
    )
    if (pending or 0) >= settings.subscribe_pending_per_domain:
        raise Refused("domain", HOUR)


def find_email_subscription(session: Session, address: str) -> Subscription | None:
    """The oldest e-mail subscription of ``address`` (already normalised), locked for this transaction."""
    return session.scalars(
        select(Subscription)
        .where(Subscription.channel == "email", Subscription.target == address)
        .order_by(Subscription.id)
        .limit(1)
        .with_for_update()
    ).one_or_none()


def send_manage_mail(session: Session, subscription_id: int, now: datetime, settings: Settings) -> None:
    """Plan the "manage your subscription" mail (``MANAGE_MAIL``, with the preferences link) to one reader."""
    plan_announcement(
        session,
        source_key=f"manage:{subscription_id}:{uuid.uuid4().hex}",
        event_type=MANAGE_MAIL,
        payload={},
        now=now,
        settings=settings,
        audience=Named((subscription_id,)),
    )


def request_signup(
    session: Session, form: SignupForm, client: str, now: datetime, settings: Settings, limiter: RateLimiter
) -> None:
    """Accept a sign-up (see the module's rules); raises ``Refused`` (a limit) or
    ``InvalidField`` (only unknown categories) having stored nothing."""
    if form.website:
        return  # a bot filled the hidden field: the same answer, nothing stored, nothing sent
    categories = known_categories(session, form.categories)
    if form.categories and not categories:
        # Only unknown slugs: subscribing to everything instead would not be what was asked.
        raise InvalidField("categories", "no_category_exists")
    # The domain's pending count and the address's subscription are read, then written on:
    # sign-ups of one domain one at a time, or two at once would both pass the cap and both
    # create the address's subscription (a row lock cannot hold a row that is not there yet).
    # On SQLite the transaction's BEGIN IMMEDIATE already serialises them (decision 0027).
    transaction_lock(session, f"signup-domain:{form.domain}")
    _check_limits(session, form, client, now, settings, limiter)
    subscription = find_email_subscription(session, form.email)
    if subscription is not None and subscription.status in CONFIRMED:
        send_manage_mail(session, subscription.id, now, settings)
        return
    if subscription is None:
        subscription = Subscription(
            channel="email",
            target=form.email,
            events=[],
            categories=categories,
            locale=form.locale,
            options={},
            status=SubscriptionStatus.PENDING.value,
            status_reason="waiting for the reader's confirmation",
            unsubscribe_token=secrets.token_urlsafe(32),
            frequency=form.frequency,
            created_at=now,
            updated_at=now,
        )
        session.add(subscription)
        session.flush()
    salt = links.new_salt()
    token = links.token_from_salt(settings.secret_key.get_secret_value(), salt)
    expires_at = now + timedelta(hours=settings.subscribe_confirm_hours)
    request = SubscribeRequest(
        subscription_id=subscription.id,
        token_hash=links.token_hash(token),
        token_salt=salt,
        domain=form.domain,
        categories=categories,
        frequency=form.frequency,
        locale=form.locale,
        consent_version=CURRENT_VERSION,
        client_address=client,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(request)
    session.flush()
    plan_announcement(
        session,
        source_key=f"confirm:{request.id}",
        event_type=CONFIRM_MAIL,
        payload={"salt": salt, "expires_at": expires_at.isoformat(), "locale": form.locale},
        now=now,
        settings=settings,
        audience=Named((subscription.id,)),
    )


LinkState = Literal["ok", "expired", "used", "invalid"]


@dataclass(frozen=True)
class Confirmation:
    state: LinkState
    locale: str = "vi"
    subscription_id: int | None = None


def _request_for(session: Session, token: str, *, lock: bool) -> SubscribeRequest | None:
    if not links.TOKEN.match(token):
        return None  # not one we made (and a NUL byte would make PostgreSQL refuse the query)
    query = select(SubscribeRequest).where(SubscribeRequest.token_hash == links.token_hash(token))
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def _state(request: SubscribeRequest | None, now: datetime) -> LinkState:
    if request is None:
        return "invalid"
    if request.used_at is not None:
        return "used"
    return "ok" if now < request.expires_at else "expired"


def inspect_link(session: Session, token: str, now: datetime) -> Confirmation:
    """What the landing page (GET) says about a link; changes nothing (link scanners GET)."""
    request = _request_for(session, token, lock=False)
    return Confirmation(_state(request, now), request.locale if request else "vi")


def confirm(session: Session, token: str, client: str, now: datetime, settings: Settings) -> Confirmation:
    """The link's POST: subscribe, once, and send the welcome mail (``WELCOME_MAIL``: what
    was chosen, the preferences link). The row is locked, so two clicks confirm once."""
    request = _request_for(session, token, lock=True)
    state = _state(request, now)
    if request is None or state != "ok":
        return Confirmation(state, request.locale if request else "vi")
    request.used_at = now
    subscription = session.get(Subscription, request.subscription_id, with_for_update=True)
    assert subscription is not None  # the request cascades with it
    subscription.status = SubscriptionStatus.ACTIVE.value
    subscription.status_reason = None
    subscription.failing_since = None
    subscription.categories = list(request.categories)
    subscription.frequency = request.frequency
    subscription.locale = request.locale
    subscription.updated_at = now
    # A first digest carries what was published after the confirmation.
    subscription.digest_since = now
    # Any other link still out for this address is spent too.
    session.execute(
        update(SubscribeRequest)
        .where(SubscribeRequest.subscription_id == subscription.id, SubscribeRequest.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    # Asking again in person lifts an earlier "forget me".
    session.execute(
        delete(Suppression).where(Suppression.target_hash == suppression_hash("email", subscription.target))
    )
    record_consent(
        session,
        subscription_id=subscription.id,
        action="given",
        channel="email",
        method="form",
        now=now,
        text_version=request.consent_version,
        client_address=client,
        detail={
            "requested_at": request.created_at.isoformat(),
            "requested_from": request.client_address,
            "categories": list(request.categories),
            "frequency": request.frequency,
        },
    )
    plan_announcement(
        session,
        source_key=f"welcome:{request.id}",
        event_type=WELCOME_MAIL,
        payload={"categories": _category_names(session, list(request.categories)), "frequency": request.frequency},
        now=now,
        settings=settings,
        audience=Named((subscription.id,)),
    )
    return Confirmation("ok", request.locale, subscription.id)


def _category_names(session: Session, slugs: list[str]) -> list[str]:
    """The names of the chosen categories, in the reader's order (none: every category)."""
    # A result has .keys(), so dict() would take it for a mapping: a list of pairs it is.
    names = dict(list(session.execute(select(Category.slug, Category.name).where(Category.slug.in_(slugs))).tuples()))
    return [names.get(slug, slug) for slug in slugs]


# An unconfirmed sign-up is kept this long after its last link expired, then erased:
# without consent there is no purpose to keep the address for (Decree 13/2023/NĐ-CP, art. 16).
UNCONFIRMED_KEPT = timedelta(days=1)
PURGE_LIMIT = 1000


def purge_unconfirmed(session: Session, now: datetime, limit: int = PURGE_LIMIT) -> int:
    """Delete pending reader subscriptions whose every link expired over a day ago (their
    requests and confirmation deliveries go with them, by cascade), and spent-by-expiry
    links of other subscriptions; returns how many subscriptions went. Bounded per call."""
    cutoff = now - UNCONFIRMED_KEPT
    still_open = (
        select(SubscribeRequest.id)
        .where(SubscribeRequest.subscription_id == Subscription.id, SubscribeRequest.expires_at > cutoff)
        .exists()
    )
    stale = list(
        session.scalars(
            select(Subscription.id)
            .where(
                Subscription.channel == "email",
                Subscription.status == SubscriptionStatus.PENDING,
                ~still_open,
            )
            .limit(limit)
        )
    )
    if stale:
        session.execute(delete(Subscription).where(Subscription.id.in_(stale)))
    session.execute(
        delete(SubscribeRequest).where(SubscribeRequest.used_at.is_(None), SubscribeRequest.expires_at < cutoff)
    )
    return len(stale)
