from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.channels.messages import Ending, SendResult
from service.db import after_commit
from service.db.engine import session_scope
from service.db.models import Announcement, Delivery, DeliveryAttempt, OutboxEvent, Subscription
from service.deliveries.outcomes import record_results
from service.deliveries.planning import Followers, plan_announcement, plan_disabled_notices
from service.deliveries.sender import claim
from service.deliveries.sweep import release_stuck
from service.events import announce
from service.events.announce import announce_event, plan_event_chunk
from service.events.outbox import claim_unrelayed_events
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription
from tests.actors import OPERATOR

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def subscribe(target: str = "123456", **fields: object) -> int:
    data = SubscriptionCreate.model_validate({"channel": "zalo", "target": target, **fields})
    with session_scope() as session:
        return create_subscription(session, data, NOW, get_settings())[0].id


def plan(key: str = "event:1", categories: list[str] | None = None) -> list[str]:
    with session_scope() as session:
        return plan_announcement(
            session,
            source_key=key,
            event_type="article.published",
            payload={"article": {"title": "T"}},
            now=NOW,
            audience=Followers(categories=tuple(categories) if categories is not None else None),
            settings=get_settings(),
        )


def run(results: list[SendResult] | dict[int, SendResult], at: datetime = NOW) -> list[int]:
    """Claim every delivery and record ``results``: in announcement order, or by subscription id."""
    with session_scope() as session:
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.announcement_id)))
        messages = claim(session, ids, at, get_settings())
        messages.sort(key=lambda m: ids.index(m.delivery_id))
        chosen = [results[m.subscription_id] for m in messages] if isinstance(results, dict) else results
        return record_results(session, list(zip(messages, chosen, strict=True)), at, get_settings())


def delivery() -> Delivery:
    with session_scope() as session:
        return session.scalars(select(Delivery)).one()


def test_planning_twice_plans_once_and_respects_filters() -> None:
    subscribe("1", categories=["Thời sự"])
    subscribe("2", events=["article.updated"])
    subscribe("3")
    assert len(plan(categories=["thoi-su"])) == 2  # "2" wants updates only
    assert plan(categories=["thoi-su"]) == []  # the same event again
    with session_scope() as session:
        assert len(session.scalars(select(Announcement)).all()) == 1


def test_success_records_attempt_and_health() -> None:
    subscription_id = subscribe()
    plan()
    run([SendResult(ok=True, status_code=200, duration_ms=12)])
    row = delivery()
    assert (row.status, row.attempts, row.delivered_at) == ("delivered", 1, NOW)
    with session_scope() as session:
        assert session.get_one(Subscription, subscription_id).last_success_at == NOW
        [attempt] = session.scalars(select(DeliveryAttempt)).all()
        assert (attempt.status_code, attempt.duration_ms) == (200, 12)


def test_failure_schedules_a_retry_and_a_duplicate_claim_finds_nothing() -> None:
    subscribe()
    plan()
    run([SendResult.failure("HTTP 500", 500)])
    row = delivery()
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > NOW
    with session_scope() as session:
        row_id = session.scalars(select(Delivery.id)).one()
        assert len(claim(session, [row_id], NOW, get_settings())) == 1
        assert claim(session, [row_id], NOW, get_settings()) == []  # already held


def test_deferred_is_not_an_attempt() -> None:
    subscribe()
    plan()
    run([SendResult(ok=False, deferred=True, retry_after=3)])
    row = delivery()
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, NOW + timedelta(seconds=3))


def test_gone_disables_and_fails_the_rest(settings_override: pytest.MonkeyPatch) -> None:
    subscription_id = subscribe()
    plan("event:1")
    plan("event:2")
    disabled = run([SendResult.failure("HTTP 410", 410, gone=Ending.ENDED), SendResult(ok=False, deferred=True)])
    assert disabled == [subscription_id]
    with session_scope() as session:
        subscription = session.get_one(Subscription, subscription_id)
        assert subscription.status == "disabled" and "410" in (subscription.status_reason or "")
        assert {d.status for d in session.scalars(select(Delivery))} == {"failed"}


def test_failing_longer_than_the_window_disables_and_tells_the_admin(settings_override: pytest.MonkeyPatch) -> None:
    admin_id = subscribe("42")
    failing_id = subscribe("7", categories=["Thời sự"])
    settings_override.setenv("BANTIN_ADMIN_SUBSCRIPTION_ID", str(admin_id))
    settings_override.setenv("BANTIN_SUBSCRIPTION_DISABLE_AFTER_SECONDS", "3600")
    get_settings.cache_clear()
    plan(categories=["thoi-su"])
    with session_scope() as session:
        failing = session.get_one(Subscription, failing_id)
        failing.failing_since = NOW - timedelta(hours=2)
    disabled = run({admin_id: SendResult(ok=True), failing_id: SendResult.failure("HTTP 500", 500)})
    assert disabled == [failing_id]
    with session_scope() as session:
        notices = plan_disabled_notices(session, disabled, NOW, get_settings())
        notice = session.get_one(Delivery, notices[0])
        assert notice.subscription_id == admin_id
        assert session.get_one(Announcement, notice.announcement_id).type == "subscription.disabled"


def test_claim_holds_back_paused_and_fails_disabled_subscriptions() -> None:
    paused_id, disabled_id, active_id = subscribe("1"), subscribe("2"), subscribe("3")
    plan()
    with session_scope() as session:
        session.get_one(Subscription, paused_id).status = "paused"
        session.get_one(Subscription, disabled_id).status = "disabled"
    with session_scope() as session:
        ids = list(session.scalars(select(Delivery.id)))
        messages = claim(session, ids, NOW, get_settings())
        assert [m.subscription_id for m in messages] == [active_id]
    with session_scope() as session:
        by_subscription = {d.subscription_id: d for d in session.scalars(select(Delivery))}
        assert by_subscription[paused_id].status == "pending"
        assert by_subscription[paused_id].next_attempt_at == NOW + timedelta(minutes=5)
        assert (by_subscription[disabled_id].status, by_subscription[disabled_id].last_error) == (
            "failed",
            "subscription disabled",
        )


def test_a_batch_that_outlived_its_lease_writes_nothing_over_its_successor() -> None:
    """Batch A claims, runs past its lease; the sweep releases the rows and batch B claims
    them. A's late results are dropped (row and attempt log); B's are written."""
    subscribe()
    plan()
    lease = timedelta(seconds=get_settings().delivery_lease_seconds)
    with session_scope() as session:
        row_id = session.scalars(select(Delivery.id)).one()
        [slow] = claim(session, [row_id], NOW, get_settings())
    later = NOW + lease + timedelta(seconds=1)
    with session_scope() as session:
        assert release_stuck(session, later) == 1
    # Released, not yet claimed again: the slow batch may not write either.
    with session_scope() as session:
        record_results(session, [(slow, SendResult.failure("HTTP 500", 500))], later, get_settings())
    assert (delivery().status, delivery().attempts) == ("pending", 0)
    with session_scope() as session:
        [second] = claim(session, [row_id], later, get_settings())
    assert second.claim_token != slow.claim_token
    with session_scope() as session:
        record_results(session, [(slow, SendResult.failure("HTTP 500", 500))], later, get_settings())
        record_results(session, [(second, SendResult(ok=True, status_code=204))], later, get_settings())
        record_results(session, [(slow, SendResult.failure("HTTP 500", 500))], later, get_settings())
    row = delivery()
    assert (row.status, row.attempts, row.last_status_code, row.claim_token) == ("delivered", 1, 204, None)
    with session_scope() as session:
        assert [a.status_code for a in session.scalars(select(DeliveryAttempt))] == [204]


def publish_event() -> int:
    with session_scope() as session:
        create_article(
            session, ArticleCreate(title="Kỷ niệm 97 năm", body_html="<p>x</p>"), NOW, get_settings(), OPERATOR
        )
        ((_, (event_id,)),) = after_commit.pending(session).tasks
    assert isinstance(event_id, int)
    return event_id


class RecordingUnitOfWork:
    """``session_scope`` that keeps, per committed unit of work, the delivery ids it sends."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        with session_scope() as session:
            yield session
            self.sent.append(list(after_commit.pending(session).batched.get("deliveries.send_batch", [])))


def planned_subscriptions() -> list[int]:
    with session_scope() as session:
        return sorted(session.scalars(select(Delivery.subscription_id)))


def test_an_event_sends_its_first_batch_before_the_rest_is_planned(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_DELIVERY_BATCH_SIZE", "2")
    subscribers = [subscribe(str(n)) for n in range(5)]
    event_id = publish_event()
    units = RecordingUnitOfWork()

    assert announce_event(units, event_id, NOW, get_settings()) == 5

    with session_scope() as session:
        first = sorted(session.scalars(select(Delivery.subscription_id).where(Delivery.id.in_(units.sent[0]))))
        postgresql = session.get_bind().dialect.name == "postgresql"
        assert session.get_one(OutboxEvent, event_id).announced_at == NOW
    # PostgreSQL plans the first batch (lowest ids) in its own unit of work; SQLite all at once.
    assert first == (subscribers[:2] if postgresql else subscribers)
    assert sorted(len(ids) for ids in units.sent) == ([2, 3] if postgresql else [5])
    assert planned_subscriptions() == subscribers
    assert announce_event(units, event_id, NOW, get_settings()) == 0  # announced once


def test_an_announcement_stopped_half_way_is_completed_not_planned_again(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_DELIVERY_BATCH_SIZE", "2")
    subscribers = [subscribe(str(n)) for n in range(5)]
    event_id = publish_event()
    with session_scope() as session:  # the first unit of work, then the worker died
        first = plan_event_chunk(session, event_id, NOW, get_settings(), size=2)
    with session_scope() as session:  # SQLite plans every follower in one chunk
        chunked = session.get_bind().dialect.name == "postgresql"
        # Not announced, so the sweep sends it again.
        assert (session.get_one(OutboxEvent, event_id).announced_at is None) == chunked

    rest = announce_event(session_scope, event_id, NOW, get_settings())

    assert first.planned + rest == 5
    assert planned_subscriptions() == subscribers
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Announcement)) == 1
        assert session.get_one(OutboxEvent, event_id).announced_at == NOW


def test_planning_stopped_between_chunks_is_completed_once_by_the_sweep(
    settings_override: pytest.MonkeyPatch,
) -> None:
    """Chunks of 3 after a first batch of 2 (PostgreSQL; SQLite plans in one chunk): the
    planner dies after two chunks, the events sweep sends the event again, and every
    subscriber ends with exactly one delivery, each handed to the broker once."""
    settings_override.setenv("BANTIN_DELIVERY_BATCH_SIZE", "2")
    settings_override.setattr(announce, "PLAN_CHUNK", 3)
    subscribers = [subscribe(str(n)) for n in range(10)]
    event_id = publish_event()
    units = RecordingUnitOfWork()
    for size in (2, 3):  # the first batch and one chunk, each committed, then the worker was killed
        with units() as session:
            plan_event_chunk(session, event_id, NOW, get_settings(), size)
    stopped = planned_subscriptions()
    chunked = stopped != subscribers  # PostgreSQL
    assert stopped == (subscribers[:5] if chunked else subscribers)
    later = datetime.now(UTC) + timedelta(minutes=5)
    with session_scope() as session:
        assert (session.get_one(OutboxEvent, event_id).announced_at is None) == chunked
        assert claim_unrelayed_events(session, later, get_settings()) == [event_id]  # re-sent

    # What the re-sent events.announce task does; a second, duplicate message finds it done.
    assert announce_event(units, event_id, NOW, get_settings()) == (5 if chunked else 0)
    assert announce_event(units, event_id, NOW, get_settings()) == 0

    with session_scope() as session:
        rows = session.execute(select(Delivery.subscription_id, func.count()).group_by(Delivery.subscription_id))
        per_subscriber: dict[int, int] = dict(rows.tuples().all())
        assert session.get_one(OutboxEvent, event_id).announced_at == NOW
        every_id = sorted(session.scalars(select(Delivery.id)))
    assert per_subscriber == dict.fromkeys(subscribers, 1)
    handed = [delivery_id for ids in units.sent for delivery_id in ids]
    assert sorted(handed) == every_id  # each row published once, none twice


def test_a_planner_out_of_time_hands_the_rest_to_a_new_message(settings_override: pytest.MonkeyPatch) -> None:
    """Past its budget the task starts no chunk; the last chunk's commit sends events.announce
    again (PostgreSQL; SQLite plans in one chunk and has nothing left to hand on)."""
    settings_override.setenv("BANTIN_DELIVERY_BATCH_SIZE", "2")
    subscribers = [subscribe(str(n)) for n in range(5)]
    event_id = publish_event()
    handed_on: list[tuple[str, tuple[object, ...]]] = []

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session_scope() as session:
            yield session
            handed_on.extend(after_commit.pending(session).tasks)

    planned = announce_event(unit_of_work, event_id, NOW, get_settings(), budget_seconds=0)

    chunked = planned == 2
    assert handed_on == ([("events.announce", (event_id,))] if chunked else [])
    assert announce_event(session_scope, event_id, NOW, get_settings()) == (3 if chunked else 0)  # the next message
    assert planned_subscriptions() == subscribers
