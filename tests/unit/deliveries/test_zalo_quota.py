"""The Zalo OA's promotion quota per window (decision 0040), and the Zalo channel's forms against
the local OA (tests/integration/zalo_api.py): tư vấn in the window, the switch on -230, the
promotion in quota order, the wait when the quota is used up."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from config.settings import Settings, get_settings
from service.channels.http import new_http_session
from service.channels.messages import OutboundMessage, SendResult
from service.channels.zalo import AS_PROMOTION, GRANTED, HELD, SWITCH_WAIT, SWITCHED, WAITING_QUOTA
from service.channels.zalo_forms import COLD_MARK, WINDOW_MS
from service.db.engine import session_scope
from service.db.models import Delivery, Subscription
from service.deliveries import zalo_quota
from service.deliveries.planning import plan_announcement
from service.deliveries.ratelimit import LocalRateLimiter
from service.deliveries.sender import send_all
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription
from tests.integration.zalo_api import ACCESS_TOKEN, ZaloOa
from tests.outbound import outbound

NOW = datetime(2027, 3, 31, 16, 30, tzinfo=UTC)  # 23:30 on 31 March in Hà Nội
PAYLOAD = {"article": {"title": "Lễ hội", "summary": "Tóm tắt", "url": "https://bantin.example.vn/articles/1/le-hoi"}}


def settings(**values: Any) -> Settings:
    return Settings(**{"zalo_access_token": ACCESS_TOKEN, "egress_allow": "127.0.0.1/32", **values})


def test_the_window_is_the_calendar_month_in_the_desks_zone_or_a_fixed_length() -> None:
    start, end = zalo_quota.window_of(NOW, settings())
    # 23:30 on 31 March in Hà Nội is still March there, though April has begun nowhere in UTC.
    assert (start, end) == (datetime(2027, 2, 28, 17, tzinfo=UTC), datetime(2027, 3, 31, 17, tzinfo=UTC))
    start, end = zalo_quota.window_of(NOW, settings(zalo_promotion_quota_window_seconds=3600))
    assert (start, end) == (datetime(2027, 3, 31, 16, tzinfo=UTC), datetime(2027, 3, 31, 17, tzinfo=UTC))


def cold(delivery_id: str, subscription_id: int, followed_days_ago: float, now: datetime = NOW) -> OutboundMessage:
    message = outbound("article.published", PAYLOAD, channel="zalo", target=f"7{subscription_id:018d}",
                       delivery_id=delivery_id, subscription_id=subscription_id)  # fmt: skip
    stamp = int((now - timedelta(days=followed_days_ago)).timestamp() * 1000)
    return dataclasses.replace(message, options={"zalo_event_ms": stamp})


def test_a_quota_of_3_goes_to_the_3_most_recent_cold_followers_and_the_rest_wait_for_the_next_window() -> None:
    config = settings(zalo_promotion_quota=3)
    # Followed 8 to 12 days ago: subscription 5 the most recent. One warm follower takes no unit.
    messages = [cold(f"d{i}", i, 13 - i) for i in range(1, 6)] + [cold("warm", 9, 1)]
    resources = zalo_quota.prepare(session_scope, messages, NOW, config)
    assert resources[GRANTED] == frozenset({"d5", "d4", "d3"})
    held = resources[HELD]
    assert isinstance(held, dict) and set(held) == {"d1", "d2"}
    assert held["d1"] == (datetime(2027, 3, 31, 17, tzinfo=UTC) - NOW).total_seconds()  # until the window ends
    with session_scope() as session:
        view = zalo_quota.current(session, config, NOW)
    assert (view.used, view.remaining, view.allowance) == (3, 0, 3)
    # Later in the same window: nothing left; in the next one, both go.
    again = zalo_quota.prepare(session_scope, messages[:2], NOW + timedelta(minutes=5), config)
    assert again[GRANTED] == frozenset()
    after = NOW + timedelta(hours=1)
    later = zalo_quota.prepare(session_scope, [cold("d1", 1, 12, after), cold("d2", 2, 11, after)], after, config)
    assert later[GRANTED] == frozenset({"d1", "d2"})


def planned(followed_days_ago: Sequence[float]) -> list[OutboundMessage]:
    """Zalo subscriptions that followed that long ago and one announcement's deliveries to them."""
    ids: list[int] = []
    with session_scope() as session:
        for days in followed_days_ago:
            data = SubscriptionCreate.model_validate({"channel": "zalo", "target": f"7{len(ids) + 1:018d}"})
            subscription = create_subscription(session, data, NOW, get_settings())[0]
            subscription.options = {"zalo_event_ms": int((NOW - timedelta(days=days)).timestamp() * 1000)}
            ids.append(subscription.id)
    with session_scope() as session:
        plan_announcement(session, source_key="a:1", event_type="article.published", payload=PAYLOAD, now=NOW,
                          settings=get_settings())  # fmt: skip
        rows = session.execute(select(Delivery.id, Delivery.subscription_id, Delivery.announcement_id)).all()
        options = dict(session.execute(select(Subscription.id, Subscription.options)).tuples().all())
    by_subscription = {row.subscription_id: row for row in rows}
    return [
        dataclasses.replace(
            cold(by_subscription[i].id, i, 0),
            options=options[i],
            announcement_id=by_subscription[i].announcement_id,
        )
        for i in ids
    ]


def test_most_recent_first_holds_across_batches_of_one_announcement() -> None:
    config = settings(zalo_promotion_quota=3)
    oldest, older, *recent = planned([12, 11, 10, 9, 8])
    # A batch of the two oldest comes first: the three more recent wait elsewhere, and the
    # 3 units are theirs; the two look again in a minute.
    first = zalo_quota.prepare(session_scope, [oldest, older], NOW, config)
    assert first[GRANTED] == frozenset() and first[HELD] == {oldest.delivery_id: 60.0, older.delivery_id: 60.0}
    second = zalo_quota.prepare(session_scope, recent, NOW, config)
    assert second[GRANTED] == {m.delivery_id for m in recent}
    with session_scope() as session:  # sent: no longer pending
        sent = [m.delivery_id for m in recent]
        session.execute(update(Delivery).where(Delivery.id.in_(sent)).values(status="delivered"))
    # Now nothing is left this window: the two wait for the next, and get it then.
    until_end = (datetime(2027, 3, 31, 17, tzinfo=UTC) - NOW).total_seconds()
    assert zalo_quota.prepare(session_scope, [oldest, older], NOW, config)[HELD] == {
        oldest.delivery_id: until_end,
        older.delivery_id: until_end,
    }
    after = NOW + timedelta(hours=1)
    assert zalo_quota.prepare(session_scope, [oldest, older], after, config)[GRANTED] == {
        oldest.delivery_id,
        older.delivery_id,
    }


def test_units_of_sends_that_did_not_go_come_back_unless_zalo_closed_the_window() -> None:
    config = settings(zalo_promotion_quota=2)
    messages = [cold("d1", 1, 9), cold("d2", 2, 8)]
    resources = zalo_quota.prepare(session_scope, messages, NOW, config)
    results = [SendResult(ok=True), SendResult.failure("Zalo error -201: header.content is invalid")]
    zalo_quota.settle(session_scope, resources, messages, results, NOW)
    with session_scope() as session:
        assert zalo_quota.current(session, config, NOW).used == 1
        assert zalo_quota.exhaust(session, NOW, config) == (datetime(2027, 3, 31, 17, tzinfo=UTC) - NOW).total_seconds()
    with session_scope() as session:
        view = zalo_quota.current(session, config, NOW)
    assert view.remaining == 0 and view.exhausted_at is not None
    assert zalo_quota.prepare(session_scope, [cold("d3", 3, 9)], NOW, config)[GRANTED] == frozenset()


def test_without_a_known_allowance_only_zalos_answer_stops_sending() -> None:
    config = settings()
    messages = [cold(f"d{i}", i, 9) for i in range(1, 4)]
    assert zalo_quota.prepare(session_scope, messages, NOW, config)[GRANTED] == {"d1", "d2", "d3"}


@pytest.fixture
def oa() -> Iterator[ZaloOa]:
    server = ZaloOa()
    server.start()
    yield server
    server.stop()


def send(
    oa: ZaloOa, config: Settings, messages: Sequence[OutboundMessage], resources: dict[str, object]
) -> list[SendResult]:
    config = config.model_copy(update={"zalo_api_base": oa.base})

    async def run() -> list[SendResult]:
        http = new_http_session(config)
        try:
            return await send_all(messages, config, LocalRateLimiter(), http, resources)
        finally:
            await http.close()

    return asyncio.run(run())


def follower(oa: ZaloOa, message: OutboundMessage, interacted_days_ago: float) -> None:
    with oa.lock:
        oa.followers.add(message.target)
        oa.interactions[message.target] = int((time.time() - interacted_days_ago * 86400) * 1000)


def test_in_the_window_tu_van_text_and_outside_it_a_switch_then_the_promotion(oa: ZaloOa) -> None:
    now = datetime.now(UTC)
    config = settings(zalo_promotion_quota=10)
    warm, surprise = cold("w", 1, 1, now), cold("s", 2, 1, now)
    follower(oa, warm, 1)
    follower(oa, surprise, 9)  # Zalo knows of no interaction for 9 days; we saw a follow a day ago
    first = send(oa, config, [warm, surprise], zalo_quota.prepare(session_scope, [warm, surprise], now, config))
    assert first[0].ok and first[0].error is None and oa.messages_to(warm.target)[0].form == "cs"
    switched = first[1]
    assert switched.deferred and switched.error == SWITCHED and switched.retry_after == SWITCH_WAIT
    assert switched.keep is not None and isinstance(switched.keep[COLD_MARK], int)
    # The next batch reads the mark from the subscription: a promotion, in its turn.
    marked = dataclasses.replace(surprise, options={**surprise.options, **switched.keep})
    [promoted] = send(oa, config, [marked], zalo_quota.prepare(session_scope, [marked], now, config))
    assert promoted.ok and promoted.error == AS_PROMOTION
    assert [(s.form, s.error) for s in oa.messages_to(surprise.target)] == [("cs", -230), ("promotion", 0)]
    template = oa.messages_to(surprise.target)[1].template
    assert template is not None and template["buttons"][0]["payload"]["url"] == PAYLOAD["article"]["url"]


def test_out_of_quota_at_zalo_closes_the_window_and_the_delivery_waits_without_an_attempt(oa: ZaloOa) -> None:
    now = datetime.now(UTC)
    oa.promotion_quota = 0  # the OA's package is used up, whatever we counted
    config = settings(zalo_promotion_quota=5)
    message = cold("d1", 1, 9, now)
    follower(oa, message, 9)
    [result] = send(oa, config, [message], resources := zalo_quota.prepare(session_scope, [message], now, config))
    assert result.deferred and result.error == WAITING_QUOTA and result.retry_after and result.retry_after > 1
    zalo_quota.settle(session_scope, resources, [message], [result], now)
    with session_scope() as session:
        view = zalo_quota.current(session, config, now)
    assert view.exhausted_at is not None and view.remaining == 0
    # A held delivery is not even tried.
    sent_before = len(oa.sent)
    [held] = send(oa, config, [message], zalo_quota.prepare(session_scope, [message], now, config))
    assert held.deferred and held.error == WAITING_QUOTA and len(oa.sent) == sent_before
    assert now.timestamp() * 1000 - message.options["zalo_event_ms"] > WINDOW_MS
