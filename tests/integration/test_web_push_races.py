"""Browsers subscribing at once (decision 0041), on SQLite and PostgreSQL both: one endpoint
stays one subscription, and every subscribe leaves exactly one consent row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import ConsentEvent, Subscription
from service.db.types import utcnow
from service.deliveries.ratelimit import LocalRateLimiter
from service.readers.web_push import BrowserSubscription, subscribe_browser, unsubscribe_browser
from tests.integration.concurrency import at_once
from tests.integration.push_service import Browser
from tests.tables import empty_all_tables

pytestmark = pytest.mark.usefixtures("each_database")
PARALLEL = 6


@pytest.fixture(autouse=True)
def empty_tables(each_database: str) -> Iterator[None]:
    yield
    empty_all_tables()


def test_one_browser_subscribing_from_several_tabs_at_once_is_one_subscription() -> None:
    settings = get_settings().model_copy(
        update={"egress_allow": "127.0.0.1/32", "subscribe_per_address_per_hour": 100, "web_push_services": "127.0.0.1"}
    )
    browser = Browser("https://127.0.0.1/push/one-endpoint")
    keys = browser.subscription_json()["keys"]
    form = BrowserSubscription(browser.endpoint, keys["p256dh"], keys["auth"])
    limiter = LocalRateLimiter()

    def work(n: int) -> int:
        with session_scope() as session:
            return subscribe_browser(session, form, f"192.0.2.{n}", utcnow(), settings, limiter).id

    results = at_once(PARALLEL, work)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len(set(results)) == 1
    with session_scope() as session:
        [row] = session.scalars(select(Subscription).where(Subscription.channel == "web_push")).all()
        actions = sorted(session.scalars(select(ConsentEvent.action).where(ConsentEvent.subscription_id == row.id)))
    assert actions == ["changed"] * (PARALLEL - 1) + ["given"]

    ended = at_once(PARALLEL, lambda n: _unsubscribe(browser.endpoint, keys["auth"]))
    assert ended.count(True) == 1 and ended.count(False) == PARALLEL - 1, ended  # one withdrawal, not six


def _unsubscribe(endpoint: str, auth: str) -> bool:
    with session_scope() as session:
        return unsubscribe_browser(session, endpoint, auth, "192.0.2.1", utcnow())
