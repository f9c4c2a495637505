"""A destination that moved (a Telegram group upgraded to a supergroup) keeps its subscription."""

from sqlalchemy import select

from service.channels.messages import SendResult
from service.db.engine import session_scope
from service.db.models import Delivery, DeliveryAttempt, Subscription
from tests.unit.deliveries.test_outcomes import NOW, plan, run
from tests.unit.telegram.test_bot import tap


def test_a_moved_chat_keeps_its_subscription_and_the_delivery_goes_again_at_once() -> None:
    tap("sub:all", chat_id=-55)
    [delivery_id] = plan()
    assert run([SendResult.failure("Telegram 400: upgraded", 400, moved_to="-100555")]) == []
    with session_scope() as session:
        subscription = session.scalars(select(Subscription)).one()
        assert subscription.target == "-100555" and subscription.status == "active"
        assert subscription.failing_since is None
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None and delivery.status == "pending" and delivery.next_attempt_at == NOW
        assert session.scalars(select(DeliveryAttempt.error)).all() == ["Telegram 400: upgraded"]
    assert run([SendResult(ok=True, status_code=200)]) == []
    with session_scope() as session:
        assert session.scalars(select(Delivery.status)).all() == ["delivered"]


def test_moving_onto_a_chat_that_has_its_own_subscription_ends_the_old_one() -> None:
    tap("sub:all", chat_id=-55)
    tap("sub:all", chat_id=-100555)
    plan()
    with session_scope() as session:
        old = session.scalars(select(Subscription.id).where(Subscription.target == "-55")).one()
    run({old: SendResult.failure("Telegram 400: upgraded", 400, moved_to="-100555"),
         old + 1: SendResult(ok=True, status_code=200)})  # fmt: skip
    with session_scope() as session:
        rows = dict(session.execute(select(Subscription.target, Subscription.status)).tuples().all())
    assert rows == {"-55": "disabled", "-100555": "active"}
