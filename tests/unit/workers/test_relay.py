"""The after-commit seam: what a unit of work defers goes to the broker only once it commits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import workers.tasks  # noqa: F401  (registers the tasks on the app)
from config.settings import Settings
from service import task_names
from service.db import after_commit
from service.db.after_commit import Deferred, defer, defer_batched
from service.db.engine import session_scope
from workers import relay
from workers.app import TASK_QUEUES, app, create_app


@pytest.fixture
def recorded() -> Iterator[list[Deferred]]:
    sent: list[Deferred] = []
    after_commit.install(sent.append)
    yield sent
    relay.install()


def test_deferred_work_is_sent_after_commit(recorded: list[Deferred]) -> None:
    with session_scope() as session:
        defer(session, task_names.DISPATCH_EVENT, 7)
        defer_batched(session, task_names.SEND_DELIVERY_BATCH, ["msg_a", "msg_b"])
        assert recorded == []  # nothing before the commit
    assert recorded == [
        Deferred(tasks=[("events.dispatch", (7,))], batched={"deliveries.send_batch": ["msg_a", "msg_b"]})
    ]


def test_deferred_work_is_dropped_on_rollback(recorded: list[Deferred]) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        defer(session, task_names.DISPATCH_EVENT, 7)
        raise RuntimeError("the change failed")
    with session_scope():
        pass
    assert recorded == []


def test_delivery_ids_go_out_in_batches_of_the_configured_size() -> None:
    deferred = Deferred(tasks=[("events.announce", (3,))], batched={"deliveries.send_batch": ["a", "b", "c", "d", "e"]})
    assert relay.messages(deferred, 2) == [
        ("events.announce", (3,)),
        ("deliveries.send_batch", (["a", "b"],)),
        ("deliveries.send_batch", (["c", "d"],)),
        ("deliveries.send_batch", (["e"],)),
    ]


def test_a_dead_broker_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    dead = create_app(Settings(broker_url="redis://127.0.0.1:1/0"))
    deferred = Deferred(tasks=[("events.dispatch", (1,)), ("events.dispatch", (2,))])
    assert relay.send(deferred, dead) == 0
    assert "broker unreachable, 2 message(s) left for the sweeps" in caplog.text


def test_every_task_is_routed_to_its_queue_by_name() -> None:
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert set(TASK_QUEUES) == ours
    router = app.amqp.router
    assert router.route({}, "events.dispatch")["queue"].name == "events"
    assert router.route({}, "deliveries.send_batch")["queue"].name == "deliveries"
    # Subscribers' servers (decision 0031): a queue no feed-rendering worker takes.
    assert router.route({}, "websub.verify")["queue"].name == "websub"
    assert router.route({}, "websub.distribute")["queue"].name == "websub"
