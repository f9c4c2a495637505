from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import Delivery, Subscription
from service.db.types import utcnow
from service.errors import InvalidField
from service.feeds.publish import render_scope
from service.websub.hub import (
    MAX_VERIFICATION_RESENDS,
    HubBusy,
    Verification,
    apply_verification,
    ask_subscriber,
    check_capacity,
    expire_leases,
    lost_verifications,
    parse_request,
    plan_feed_updates,
    record_request,
)

NOW = datetime(2027, 2, 3, tzinfo=UTC)
TOPIC = "https://bantin.example.vn/feeds/atom.xml"


@pytest.fixture(autouse=True)
def site_feed() -> None:
    with session_scope() as session:
        render_scope(session, "site", utcnow(), get_settings())


def request(**overrides: str) -> int:
    form = {"hub.mode": "subscribe", "hub.callback": "https://8.8.8.8/cb", "hub.topic": TOPIC, **overrides}
    with session_scope() as session:
        subscription_id = record_request(session, parse_request(session, form, get_settings()), NOW)
        assert subscription_id is not None
        return subscription_id


def subscription(subscription_id: int) -> Subscription:
    with session_scope() as session:
        return session.get_one(Subscription, subscription_id)


def stored(subscription_id: int) -> Subscription | None:
    with session_scope() as session:
        return session.get(Subscription, subscription_id)


def test_lease_is_clamped_and_applied_on_confirmation() -> None:
    subscription_id = request(**{"hub.lease_seconds": "999999999", "hub.secret": "s"})
    assert subscription(subscription_id).status == "pending"
    with session_scope() as session:
        apply_verification(session, subscription_id, True, NOW)
    confirmed = subscription(subscription_id)
    assert confirmed.status == "active" and confirmed.secret == "s"
    assert confirmed.lease_expires_at == NOW + timedelta(days=30)


def test_unconfirmed_new_subscription_is_dropped_and_renewal_keeps_the_old_one() -> None:
    dropped = request()
    with session_scope() as session:
        apply_verification(session, dropped, False, NOW)
    assert stored(dropped) is None
    kept = request()
    with session_scope() as session:
        apply_verification(session, kept, True, NOW)
    assert request(**{"hub.secret": "new"}) == kept  # re-subscribing renews the same row
    with session_scope() as session:
        apply_verification(session, kept, False, NOW)
    assert subscription(kept).status == "active" and subscription(kept).secret is None


def test_leases_expire_and_lost_verifications_are_found() -> None:
    subscription_id = request(**{"hub.lease_seconds": "3600"})
    with session_scope() as session:
        assert lost_verifications(session, NOW + timedelta(minutes=1), timedelta(seconds=30)) == [subscription_id]
        apply_verification(session, subscription_id, True, NOW)
    with session_scope() as session:
        assert expire_leases(session, NOW + timedelta(minutes=59)) == 0
        assert expire_leases(session, NOW + timedelta(minutes=61)) == 1
    assert subscription(subscription_id).status_reason == "lease expired"


def test_changed_feed_plans_one_delivery_per_verified_subscriber_once() -> None:
    verified = request()
    request(**{"hub.callback": "https://8.8.4.4/cb"})  # never verified
    with session_scope() as session:
        apply_verification(session, verified, True, NOW)
    with session_scope() as session:
        assert len(plan_feed_updates(session, {"site": ["atom", "rss"]}, NOW, get_settings())) == 1
        assert (
            plan_feed_updates(session, {"site": ["atom"]}, NOW, get_settings()) == []
        )  # same bytes, same ETag: planned already
        [delivery] = session.scalars(select(Delivery)).all()
        assert delivery.subscription_id == verified


def test_topic_must_be_one_of_our_feeds() -> None:
    with pytest.raises(InvalidField) as caught, session_scope() as session:
        parse_request(
            session,
            {
                "hub.mode": "subscribe",
                "hub.callback": "https://8.8.8.8/cb",
                "hub.topic": "https://bantin.example.vn/feeds/categories/x/atom.xml",
            },
            get_settings(),
        )
    assert caught.value.field == "hub.topic"


@pytest.mark.parametrize(
    ("callback", "reason"),
    [
        ("https://8.8.8.8/cb%00", "control character"),
        ("https://8.8.8.8/cb%1f", "control character"),
        ("https://8.8.8.8/cb%7F", "control character"),
        ("https://8.8.8.8/cb%C2%85", "control character"),
        ("https://8.8.8.8/c\x00b", "may not carry"),
        ("https://8.8.8.8/c b", "may not carry"),
        ("https://8.8.8.8/c\u202eb", "may not carry"),
        ("https://8.8.8.8/c<b>", "may not carry"),
        ("https://8.8.8.8/c%zz", "%XX"),
        ("https://8.8.8.8/" + "a" * 100_000, "longer than 2048"),
        ("javascript:alert(1)", "https://"),
        ("https://[64:ff9b::a9fe:a9fe]/h", "non-public"),
        ("https://8.8.8.8:0x50/cb", "invalid port"),
    ],
)
def test_bad_callbacks_are_refused_before_anything_is_stored(callback: str, reason: str) -> None:
    form = {"hub.mode": "subscribe", "hub.callback": callback, "hub.topic": TOPIC}
    with pytest.raises(InvalidField, match=reason) as caught, session_scope() as session:
        parse_request(session, form, get_settings())
    assert caught.value.field == "hub.callback"
    with session_scope() as session:
        assert session.scalars(select(Subscription)).all() == []


def test_a_verification_lost_again_and_again_ends_and_never_loops() -> None:
    subscription_id = request()
    now = NOW
    for _ in range(MAX_VERIFICATION_RESENDS):
        now += timedelta(minutes=1)
        with session_scope() as session:
            assert lost_verifications(session, now, timedelta(seconds=30)) == [subscription_id]
    with session_scope() as session:
        assert lost_verifications(session, now + timedelta(minutes=1), timedelta(seconds=30)) == []
    assert stored(subscription_id) is None  # a new request never confirmed ends dropped


def test_a_verification_that_cannot_even_start_is_unconfirmed_not_an_error() -> None:
    broken = Verification(1, "https://8.8.8.8:99999/cb", TOPIC, "subscribe", 3600)
    assert ask_subscriber(broken, get_settings()) is False
    refused = Verification(1, "https://127.0.0.1/cb", TOPIC, "subscribe", 3600)
    assert ask_subscriber(refused, get_settings()) is False


def test_flood_of_requests_for_one_host_or_in_total_is_refused() -> None:
    settings = get_settings().model_copy(update={"websub_pending_per_host": 2, "websub_pending_total": 3})
    request(**{"hub.callback": "https://8.8.8.8/a"})
    request(**{"hub.callback": "https://8.8.8.8/b"})
    with pytest.raises(HubBusy, match=r"for 8\.8\.8\.8"), session_scope() as session:
        check_capacity(session, "https://8.8.8.8/c", settings, NOW)
    with session_scope() as session:
        check_capacity(session, "https://8.8.4.4/c", settings, NOW)  # another host still has room
    request(**{"hub.callback": "https://8.8.4.4/a"})
    with pytest.raises(HubBusy, match=r"^too many subscription requests are"), session_scope() as session:
        check_capacity(session, "https://1.1.1.1/c", settings, NOW)
