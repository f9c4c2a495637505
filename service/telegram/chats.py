"""A Telegram chat's subscription, as its reader changes it through the bot.

One subscription per chat (channel ``telegram``, target = the chat id as text). Every
change the reader makes is a consent event with method ``bot`` (Decree 13/2023/NĐ-CP,
art. 11): given when the chat starts or restarts following, changed when it adds a
category, withdrawn when it stops or blocks the bot.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.db.locks import transaction_lock
from service.db.models import Category, Subscription, SubscriptionStatus, Suppression
from service.deliveries.outcomes import fail_pending, move_target
from service.readers.consent import TELEGRAM_VERSION, record_consent
from service.readers.signup import suppression_hash

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def find_chat(session: Session, chat_id: int) -> Subscription | None:
    """The chat's subscription (the oldest, if an admin added another), locked for this transaction."""
    return session.scalars(
        select(Subscription)
        .where(
            Subscription.channel == CHANNEL,
            Subscription.target == str(chat_id),
            # A staff member's notification address in the same chat is not the chat's reading.
            Subscription.status != SubscriptionStatus.STAFF,
        )
        .order_by(Subscription.id)
        .limit(1)
        .with_for_update()
    ).one_or_none()


def follow(
    session: Session, chat_id: int, slug: str | None, locale: str, now: datetime, detail: dict[str, object]
) -> Subscription:
    """The chat follows category ``slug`` too (None: every category); created or restarted
    when it was not following. From "every category", a chosen category narrows it to that one.

    Consent is recorded as given (new or restarted) or changed (categories), with ``detail``.
    Taps of one chat are applied one at a time: two at once would both find no subscription
    (a row lock cannot hold a row that is not there yet) and make two (decision 0027)."""
    transaction_lock(session, f"telegram-chat:{chat_id}")
    subscription = find_chat(session, chat_id)
    if subscription is None:
        subscription = Subscription(
            channel=CHANNEL,
            target=str(chat_id),
            events=[],
            categories=[],
            locale=locale,
            options={},
            status=SubscriptionStatus.DISABLED.value,
            unsubscribe_token=secrets.token_urlsafe(32),
            created_at=now,
            updated_at=now,
        )
        session.add(subscription)
        session.flush()
    restarting = subscription.status != SubscriptionStatus.ACTIVE
    if slug is None:
        categories: list[str] = []
    elif restarting or not subscription.categories:
        categories = [slug]
    else:
        categories = list(dict.fromkeys([*subscription.categories, slug]))
    if not restarting and categories == subscription.categories:
        return subscription  # tapped twice: nothing changed, nothing to record
    subscription.categories = categories
    subscription.status = SubscriptionStatus.ACTIVE.value
    subscription.status_reason = None
    subscription.failing_since = None
    subscription.locale = locale
    subscription.updated_at = now
    # Asking in person lifts an earlier "forget me".
    session.execute(delete(Suppression).where(Suppression.target_hash == suppression_hash(CHANNEL, str(chat_id))))
    record_consent(
        session,
        subscription_id=subscription.id,
        action="given" if restarting else "changed",
        channel=CHANNEL,
        method="bot",
        now=now,
        text_version=TELEGRAM_VERSION,
        detail={**detail, "categories": categories},
    )
    return subscription


def end(session: Session, chat_id: int, reason: str, now: datetime, withdrawal: dict[str, object] | None) -> bool:
    """End the chat's subscription: disabled with ``reason``, its pending deliveries failed.
    ``withdrawal`` is the detail of a consent withdrawn by the reader's own act (``/stop``,
    blocking the bot: an update says so); None when Telegram's answer to a send ended it,
    which, as for an announcement that answered 403, is no act of the reader's. False
    when the chat was not following."""
    subscription = find_chat(session, chat_id)
    if subscription is None or subscription.status == SubscriptionStatus.DISABLED:
        return False
    subscription.status = SubscriptionStatus.DISABLED.value
    subscription.status_reason = reason
    subscription.updated_at = now
    fail_pending(session, [subscription.id], f"subscription ended: {reason}")
    if withdrawal is not None:
        record_consent(
            session,
            subscription_id=subscription.id,
            action="withdrawn",
            channel=CHANNEL,
            method="bot",
            now=now,
            detail={**withdrawal, "reason": reason},
        )
    log.warning("subscription %s ended: %s", subscription.id, reason, extra={"subscription_id": subscription.id})
    return True


def migrate(session: Session, old_chat_id: int, new_chat_id: int, now: datetime) -> bool:
    """A group upgraded to a supergroup (``migrate_to_chat_id``): its subscription follows
    it to the new id. False when the old chat had none (or it moved already)."""
    subscription = find_chat(session, old_chat_id)
    if subscription is None:
        return False
    return move_target(session, subscription.id, str(new_chat_id), "moved: the group became a supergroup", now)


def category_names(session: Session, slugs: list[str]) -> list[str]:
    """The names of the categories ``slugs`` name, in that order; a slug that no longer names one is shown as is."""
    if not slugs:
        return []
    # A list of pairs: dict() of the Result itself would take it for a mapping (it has keys()).
    names = dict(session.execute(select(Category.slug, Category.name).where(Category.slug.in_(slugs))).tuples().all())
    return [names.get(slug, slug) for slug in slugs]
