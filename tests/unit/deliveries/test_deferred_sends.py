"""Domain code asks for deliveries to be sent by deferring them on the session; these
tests check what each operation defers (the relay's side is in tests/unit/workers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from service.db.after_commit import pending
from service.db.engine import session_scope
from service.db.models import Delivery, DeliveryStatus, Subscription
from service.deliveries.planning import create_announcement, insert_deliveries, plan_announcement
from service.deliveries.replay import recover, replay
from service.deliveries.sweep import claim_due, feed, top_up
from service.errors import Conflict, NotFound
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)
SEND = "deliveries.send_batch"


def subscribe(target: str) -> int:
    with session_scope() as session:
        data = SubscriptionCreate.model_validate({"channel": "zalo", "target": target})
        return create_subscription(session, data, NOW, get_settings())[0].id


def test_planned_deliveries_are_deferred_for_sending_and_planning_twice_defers_nothing() -> None:
    subscribe("1")
    subscribe("2")
    for expected in (2, 0):
        with session_scope() as session:
            ids = plan_announcement(
                session,
                source_key="event:1",
                event_type="article.published",
                payload={},
                now=NOW,
                settings=get_settings(),
            )
            assert len(ids) == expected
            assert pending(session).batched.get(SEND, []) == ids
            assert pending(session).tasks == []


def test_recover_and_replay_defer_the_same_ids() -> None:
    subscription_id = subscribe("1")
    with session_scope() as session:
        [delivery_id] = plan_announcement(
            session, source_key="event:1", event_type="article.published", payload={}, now=NOW, settings=get_settings()
        )
    with session_scope() as session:
        session.execute(update(Delivery).values(status=DeliveryStatus.FAILED.value))
    with session_scope() as session:
        assert recover(session, subscription_id, NOW - timedelta(days=1), NOW) == [delivery_id]
        assert pending(session).batched == {SEND: [delivery_id]}
    with session_scope() as session:
        assert replay(session, delivery_id, NOW).status == "pending"
        assert pending(session).batched == {SEND: [delivery_id]}
    with pytest.raises(NotFound), session_scope() as session:
        replay(session, "msg_unknown", NOW)
    with session_scope() as session:
        session.execute(update(Delivery).values(status=DeliveryStatus.SENDING.value))
    with pytest.raises(Conflict), session_scope() as session:
        replay(session, delivery_id, NOW)


def test_the_due_sweep_defers_what_it_claims() -> None:
    subscribe("1")
    with session_scope() as session:
        plan_announcement(
            session, source_key="event:1", event_type="article.published", payload={}, now=NOW, settings=get_settings()
        )
    later = NOW + timedelta(hours=1)  # past the planning lease
    with session_scope() as session:
        due = claim_due(session, later, get_settings())
        assert len(due) == 1 and pending(session).batched == {SEND: due}
    with session_scope() as session:
        assert claim_due(session, later, get_settings()) == []  # leased: the next sweep skips it
        assert not pending(session)
    with session_scope() as session:
        assert session.scalars(select(Delivery.status)).all() == ["pending"]


def test_websub_deliveries_are_deferred_to_their_own_task_by_the_sweep_and_a_replay() -> None:
    """Decision 0031: a WebSub subscriber's delivery goes by websub.distribute (the websub
    queue), whatever path sends it again; every other channel's by deliveries.send_batch."""
    zalo = subscribe("1")
    with session_scope() as session:
        websub = Subscription(channel="websub", target="https://8.8.8.8/cb", topic="t", events=[], categories=[],
                              locale="vi", options={}, status="active", unsubscribe_token="u" * 32,
                              created_at=NOW)  # fmt: skip
        session.add(websub)
        session.flush()
        announcement_id = create_announcement(session, "feed:x", "feed.updated", {}, NOW)
        assert announcement_id is not None
        to_zalo, to_websub = insert_deliveries(session, announcement_id, [zalo, websub.id], NOW, get_settings())
    with session_scope() as session:
        # Planned rows stay leased to the batch that planning sent; past the lease, the sweep resends.
        claim_due(session, NOW + timedelta(seconds=get_settings().delivery_lease_seconds + 1), get_settings())
        assert pending(session).batched == {SEND: [to_zalo], "websub.distribute": [to_websub]}
    with session_scope() as session:
        replay(session, to_websub, NOW)
        assert pending(session).batched == {"websub.distribute": [to_websub]}


def test_rows_not_yet_published_go_to_the_broker_a_window_at_a_time(settings_override: pytest.MonkeyPatch) -> None:
    """Decision 0044: at most ``delivery_queue_window`` batches are in the broker's hands; a
    finished batch feeds one more; a batch lost past its lease counts out of the window."""
    settings_override.setenv("BANTIN_DELIVERY_BATCH_SIZE", "2")
    settings_override.setenv("BANTIN_DELIVERY_QUEUE_WINDOW", "2")
    subscribers = [subscribe(str(n)) for n in range(10)]
    with session_scope() as session:
        announcement_id = create_announcement(session, "event:1", "article.published", {}, NOW)
        assert announcement_id is not None
        insert_deliveries(session, announcement_id, subscribers, NOW, get_settings())
        session.execute(update(Delivery).values(lease_until=None))  # planned, not yet handed to the broker

    def sent(step: Callable[[Session, datetime, Settings], list[str]], at: datetime = NOW) -> int:
        with session_scope() as session:
            ids = step(session, at, get_settings())
            assert pending(session).batched.get(SEND, []) == ids
            return len(ids)

    assert sent(top_up) == 4  # two batches of two
    assert sent(top_up) == 0  # the window is full
    assert sent(feed) == 2  # a worker finished a batch: one more
    assert sent(top_up) == 0
    past_the_lease = NOW + timedelta(seconds=get_settings().delivery_lease_seconds + 1)
    # Six rows whose messages were lost (never claimed) and four never published: ten due,
    # a window's worth at once, then a batch for each one finished.
    assert sent(top_up, past_the_lease) == 4
    assert [sent(feed, past_the_lease) for _ in range(4)] == [2, 2, 2, 0]
