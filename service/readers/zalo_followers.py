"""Zalo Official Account followers become subscribers: follow subscribes, unfollow or a
"hủy" / "stop" message ends it, "đăng ký" / "start" subscribes again.

Rules:
- a follower's subscription is an ordinary ``zalo`` subscription (target: the user's id
  for this OA), active, every category, one message per article, so announcements reach
  it through the normal delivery rows;
- every change is a consent event (method ``follow`` for follow and unfollow, ``bot``
  for a message in the OA chat), and the follower is told in the chat what happened and
  how to undo it (a welcome naming "hủy", or the reply to a stop): those notices are
  delivery rows named to the subscription, like a reader's confirmation mail;
- each event is handled once (``zalo_events``, in the transaction that acts on it), and an
  event older than the last one applied to that follower changes nothing (Zalo retries
  for hours, so a late "follow" must not undo a newer "unfollow"; ARCHITECTURE.md decision 15);
- following again is the person's own act: it lifts an earlier "forget me".
Nothing here logs a follower's id: log lines name subscription ids only.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.db.locks import transaction_lock
from service.db.models import Subscription, SubscriptionStatus, Suppression, ZaloEvent
from service.db.statements import insert_ignoring_duplicates
from service.deliveries.outcomes import fail_pending
from service.deliveries.planning import Named, plan_announcement
from service.i18n import LANGUAGES, N_, gettext, use_language
from service.readers.consent import record_consent
from service.readers.signup import suppression_hash
from service.readers.zalo_webhook import FOLLOW, SEND_TEXT, UNFOLLOW, OaEvent, event_key
from service.text import search_key

log = logging.getLogger(__name__)
CHANNEL = "zalo"
# Compared after search_key (lower case, no marks, Đ/đ → d) with end punctuation dropped,
# so "Hủy", "HUỶ", "huy." and "Hủy đăng ký" all stop.
STOP_WORDS = frozenset({"huy", "huy dang ky", "stop", "unsubscribe"})
START_WORDS = frozenset({"dang ky", "start", "subscribe"})
# The kinds of the follower's welcome (naming how to stop) and of the reply that confirms a
# stop (service/readers/announcements.py); the reply goes to the subscription it just ended.
WELCOME_NOTICE = "reader.welcome"
STOPPED_REPLY = "reader.stopped"
# The words the follower is shown; a new wording is a new version (consent rows name it).
NOTICE_VERSION = "zalo-2026-11-29"
WELCOME = N_(
    "Cảm ơn bạn đã quan tâm %(site)s. Bạn sẽ nhận tin bài mới tại đây. Nhắn “hủy” để ngừng nhận bất cứ lúc nào."
)
STOPPED = N_("Bạn đã hủy nhận tin từ %(site)s qua Zalo. Nhắn “đăng ký” nếu muốn nhận lại.")
UNFOLLOWED = "the follower left the Official Account (unfollow)"
ASKED_TO_STOP = "the follower asked to stop in the Official Account chat"
Outcome = Literal["subscribed", "unsubscribed", "stopped", "ignored", "duplicate", "stale"]


def command_of(text: str) -> Literal["stop", "start"] | None:
    """``stop`` for "hủy"/"stop", ``start`` for "đăng ký"/"start" (any case, accents or none), else None."""
    key = search_key(text).strip(" .!?…,;:\"'“”")
    if key in STOP_WORDS:
        return "stop"
    if key in START_WORDS:
        return "start"
    return None


def handle_event(session: Session, event: OaEvent, now: datetime, settings: Settings) -> Outcome:
    """Act on one signed event, once. Returns what happened; raises nothing for a well-formed event.

    The caller commits: the event's key and its effect are stored together or not at all.
    """
    command = {FOLLOW: "start", UNFOLLOW: "stop"}.get(event.name)
    if event.name == SEND_TEXT:
        command = command_of(event.text or "")
    if event.user_id is None or command is None:
        # Another kind of event, or a chat message that is no command: nothing to do but, for
        # a message, note that the follower interacted (their 7-day tư vấn window opens again,
        # decision 0040); nothing kept (doing it twice is harmless), so the table grows with changes only.
        if event.name == SEND_TEXT and event.user_id is not None:
            _interacted(session, event)
        return "ignored"
    key = event_key(event, settings.secret_key.get_secret_value())
    recorded = session.execute(
        insert_ignoring_duplicates(session, ZaloEvent)
        .values(key=key, event_name=event.name[:64], received_at=now)
        .returning(ZaloEvent.key)
    ).scalar_one_or_none()
    if recorded is None:
        return "duplicate"
    # Events of one follower are applied one at a time (two API processes, two events).
    transaction_lock(session, f"zalo-follower:{event.user_id}")
    subscriptions = _subscriptions(session, event.user_id)
    if any(_last_event(s) > event.timestamp_ms for s in subscriptions):
        return "stale"
    method = "follow" if event.name in (FOLLOW, UNFOLLOW) else "bot"
    if command == "start":
        return _start(session, event, subscriptions, method, now, settings)
    return _stop(session, event, subscriptions, method, now, settings)


def _subscriptions(session: Session, user_id: str) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.channel == CHANNEL, Subscription.target == user_id)
            .order_by(Subscription.id)
            .with_for_update()
        )
    )


def _interacted(session: Session, event: OaEvent) -> None:
    """Stamp ``zalo_interaction_ms`` (the newest wins) on the follower's subscriptions: the
    Zalo channel sends tư vấn text within 7 days of it, the promotion form after."""
    assert event.user_id is not None
    for subscription in _subscriptions(session, event.user_id):
        seen = (subscription.options or {}).get("zalo_interaction_ms")
        if not isinstance(seen, int) or seen < event.timestamp_ms:
            subscription.options = {**(subscription.options or {}), "zalo_interaction_ms": event.timestamp_ms}


def _last_event(subscription: Subscription) -> int:
    value = (subscription.options or {}).get("zalo_event_ms")
    return value if isinstance(value, int) else 0


def _stamp(subscription: Subscription, event: OaEvent, now: datetime) -> None:
    subscription.options = {**(subscription.options or {}), "zalo_event_ms": event.timestamp_ms}
    subscription.updated_at = now


def _start(
    session: Session, event: OaEvent, found: list[Subscription], method: str, now: datetime, settings: Settings
) -> Outcome:
    assert event.user_id is not None
    if found:
        subscription = found[0]
        subscription.status = SubscriptionStatus.ACTIVE.value
        subscription.status_reason = None
        subscription.failing_since = None
    else:
        subscription = Subscription(
            channel=CHANNEL,
            target=event.user_id,
            events=[],
            categories=[],
            locale="vi",
            options={},
            status=SubscriptionStatus.ACTIVE.value,
            unsubscribe_token=secrets.token_urlsafe(32),
            frequency="each",
            created_at=now,
        )
        session.add(subscription)
    _stamp(subscription, event, now)
    session.flush()
    session.execute(delete(Suppression).where(Suppression.target_hash == suppression_hash(CHANNEL, event.user_id)))
    _consent(session, subscription, "given", method, event, now)
    _notice(session, subscription, WELCOME_NOTICE, WELCOME, now, settings)
    log.info("zalo follower subscribed (%s)", event.name, extra={"subscription_id": subscription.id})
    return "subscribed"


def _stop(
    session: Session, event: OaEvent, found: list[Subscription], method: str, now: datetime, settings: Settings
) -> Outcome:
    ending = [s for s in found if s.status != SubscriptionStatus.DISABLED]
    for subscription in found:
        _stamp(subscription, event, now)  # a later, older "follow" must still lose
    if not ending:
        return "ignored"
    reason = UNFOLLOWED if event.name == UNFOLLOW else ASKED_TO_STOP
    for subscription in ending:
        subscription.status = SubscriptionStatus.DISABLED.value
        subscription.status_reason = reason
        _consent(session, subscription, "withdrawn", method, event, now)
    session.flush()
    fail_pending(session, [s.id for s in ending], f"subscription ended: {reason}")
    for subscription in ending:
        log.info("zalo follower unsubscribed (%s)", event.name, extra={"subscription_id": subscription.id})
    if event.name == UNFOLLOW:
        return "unsubscribed"  # the OA may no longer write to someone who left
    _notice(session, ending[0], STOPPED_REPLY, STOPPED, now, settings)
    return "stopped"


def _consent(session: Session, subscription: Subscription, action: str, method: str, event: OaEvent,
             now: datetime) -> None:  # fmt: skip
    record_consent(
        session,
        subscription_id=subscription.id,
        action=action,
        channel=CHANNEL,
        method=method,
        now=now,
        text_version=NOTICE_VERSION,
        detail={"event": event.name, "zalo_timestamp_ms": event.timestamp_ms, "user_id_by_app": event.user_id_by_app},
    )


def _notice(session: Session, subscription: Subscription, event_type: str, words: str, now: datetime,
            settings: Settings) -> None:  # fmt: skip
    """One message to this follower alone: a delivery row, retried and logged like any other.

    Its words are written now in every language (the follower's is picked when it is sent),
    so a retry says what the first attempt said."""
    text = {}
    for locale in LANGUAGES:
        with use_language(locale):
            text[locale] = gettext(words, site=settings.site_title)
    plan_announcement(
        session,
        source_key=f"{event_type}:{subscription.id}:{uuid.uuid4().hex}",
        event_type=event_type,
        payload={"text": text},
        now=now,
        settings=settings,
        audience=Named((subscription.id,)),
    )
