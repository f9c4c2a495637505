"""Queue depths read from the database: which are exact on every scrape, which are cached."""

from __future__ import annotations

from datetime import UTC, datetime

from service.db.engine import session_scope
from service.deliveries.outcomes import disable_subscription
from service.observability.database import subscriptions_by_status
from tests.unit.deliveries.test_outcomes import subscribe

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def counts(ttl: float) -> dict[tuple[str, str], int]:
    with session_scope() as session:
        return subscriptions_by_status(session, ttl=ttl)


def test_active_counts_are_cached_and_the_other_statuses_are_exact() -> None:
    first, second, _ = (subscribe(str(n)) for n in range(3))
    assert counts(ttl=0) == {("active", "zalo"): 3}
    with session_scope() as session:
        disable_subscription(session, first, "HTTP 410", NOW)
    # Within the time-to-live the active figure is the cached one; the disabled one is not.
    assert counts(ttl=3600) == {("active", "zalo"): 3, ("disabled", "zalo"): 1}
    assert counts(ttl=0) == {("active", "zalo"): 2, ("disabled", "zalo"): 1}
    with session_scope() as session:
        disable_subscription(session, second, "HTTP 410", NOW)
    assert counts(ttl=3600) == {("active", "zalo"): 2, ("disabled", "zalo"): 2}
