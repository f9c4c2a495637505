"""The one place that acts on a destination's "gone" answer (decision 0039), and the id a
destination gives what it received: kept with the delivered status, read by a withdrawal."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from config.settings import get_settings
from service.announcements.message import Retraction
from service.channels.messages import Ending, SendResult
from service.db.engine import session_scope
from service.db.models import Delivery, Subscription
from service.deliveries.outcomes import PAUSED_DELIVERY_WAIT
from service.deliveries.planning import plan_announcement
from service.deliveries.sender import claim
from service.subscriptions.schemas import SubscriptionCreate, SubscriptionUpdate
from service.subscriptions.service import create_subscription, update_subscription
from tests.unit.deliveries.test_outcomes import NOW, delivery, run

PAGE = "104381234567890"


def page(events: list[str] | None = None) -> int:
    data = SubscriptionCreate.model_validate({"channel": "facebook", "target": PAGE, "events": events or []})
    with session_scope() as session:
        return create_subscription(session, data, NOW, get_settings())[0].id


def announce(kind: str, key: str, article_id: int = 7) -> list[str]:
    payload = {"article": {"id": article_id, "title": "T", "url": f"https://b.vn/a/{article_id}"}}
    with session_scope() as session:
        return plan_announcement(
            session, source_key=key, event_type=kind, payload=payload, now=NOW, settings=get_settings()
        )


def test_a_page_takes_published_and_withdrawn_whatever_it_asks_for() -> None:
    subscription_id = page(["article.updated", "reminder.due"])
    with session_scope() as session:
        assert session.get_one(Subscription, subscription_id).events == ["article.published", "article.withdrawn"]
        patch = SubscriptionUpdate.model_validate({"events": ["article.updated"]})
        update_subscription(session, subscription_id, patch, NOW, get_settings())
        assert session.get_one(Subscription, subscription_id).events == ["article.published", "article.withdrawn"]
    assert announce("article.updated", "event:1") == []  # an update posts nothing


def test_paused_pauses_the_subscription_keeps_the_delivery_and_resuming_makes_it_due(
    settings_override: pytest.MonkeyPatch,
) -> None:
    subscription_id = page()
    announce("article.published", "event:1")
    words = "Facebook 190/460: Error validating access token (fbtrace_id X)"
    assert run([SendResult.failure(words, 400, gone=Ending.PAUSED)]) == []  # paused, not disabled
    row = delivery()
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + PAUSED_DELIVERY_WAIT)
    with session_scope() as session:
        subscription = session.get_one(Subscription, subscription_id)
        assert (subscription.status, subscription.status_reason) == ("paused", words)
        # Claimed while paused: held back, not sent.
        assert claim(session, [row.id], NOW + timedelta(minutes=2), get_settings()) == []
        resume = SubscriptionUpdate.model_validate({"status": "active"})
        later = NOW + timedelta(minutes=3)
        update_subscription(session, subscription_id, resume, later, get_settings())
    assert delivery().next_attempt_at == NOW + timedelta(minutes=3)


def test_the_post_id_is_kept_with_the_delivered_status_and_a_withdrawal_takes_it_back() -> None:
    page()
    announce("article.published", "event:1")
    run([SendResult(ok=True, status_code=200, remote_id=f"{PAGE}_1")])
    assert (delivery().status, delivery().remote_id) == ("delivered", f"{PAGE}_1")
    announce("article.withdrawn", "event:2")
    announce("article.withdrawn", "event:3", article_id=8)  # never posted there
    with session_scope() as session:
        pending = list(session.scalars(select(Delivery.id).where(Delivery.status == "pending").order_by(Delivery.id)))
        messages = {m.message.data["article"]["id"]: m.message for m in claim(session, pending, NOW, get_settings())}
    assert messages[7].retracts == Retraction(f"{PAGE}_1")
    assert messages[8].retracts == Retraction(None)


def test_a_failed_attempt_keeps_no_remote_id() -> None:
    page()
    announce("article.published", "event:1")
    run([SendResult(ok=False, status_code=500, error="x", remote_id="ignored")])
    assert delivery().remote_id is None
