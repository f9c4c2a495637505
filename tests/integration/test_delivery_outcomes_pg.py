"""The claim and result rules of tests/unit/deliveries/test_outcomes.py, on PostgreSQL.

On PostgreSQL a claim is one UPDATE … FROM subscriptions … RETURNING and a batch's
results one statement over unnest() arrays (``service/deliveries``); on SQLite both are
plain per-group statements. The same scenarios run here against a real PostgreSQL
database, in-process (no worker), so that the two paths keep one meaning.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from service.channels.messages import SendResult
from service.db.engine import get_engine, session_scope
from tests.integration.pg_scenarios import empty_tables, postgres_database, run_on_postgresql, scenario_names
from tests.unit.deliveries import test_outcomes as scenarios

__all__ = ["empty_tables", "postgres_database"]  # the module's fixtures


SCENARIOS = scenario_names(scenarios)


def test_every_scenario_of_the_unit_file_is_run_here() -> None:
    # A renamed or moved unit file would leave this file parametrized over nothing.
    assert len(SCENARIOS) >= 10, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_on_postgresql(scenario: str, request: pytest.FixtureRequest) -> None:
    run_on_postgresql(scenarios, scenario, request)


# Another announcement's planning chunk, as planning writes it: one INSERT … SELECT whose
# foreign key checks lock each subscription FOR KEY SHARE until the chunk commits.
ANOTHER_ANNOUNCEMENT = text(
    "INSERT INTO announcements (type, source_key, payload, created_at)"
    " VALUES ('article.published', 'event:2', '{}', now())"
)
ITS_CHUNK = text(
    "INSERT INTO deliveries (id, announcement_id, subscription_id, status, attempts, next_attempt_at, created_at)"
    " SELECT 'msg_' || s.id, currval('announcements_id_seq'), s.id, 'pending', 0, now(), now() FROM subscriptions s"
)


def test_health_writes_do_not_wait_on_another_announcements_planning() -> None:
    """A batch recording successes and failures locks their subscriptions FOR NO KEY UPDATE,
    which does not conflict with an open planning chunk's FOR KEY SHARE: it finishes while
    the chunk is still open (with FOR UPDATE it waited for the chunk's commit)."""
    ok, broken = scenarios.subscribe("1"), scenarios.subscribe("2")
    scenarios.plan("event:1")
    results = {ok: SendResult(ok=True, status_code=200), broken: SendResult.failure("HTTP 500", 500)}
    with get_engine().connect() as planning, ThreadPoolExecutor(1) as pool:
        planning.execute(ANOTHER_ANNOUNCEMENT)
        planning.execute(ITS_CHUNK)
        recording = pool.submit(scenarios.run, results)
        try:
            recording.result(timeout=15)
        finally:
            planning.rollback()  # lets a waiting batch go, so the pool can close
    with session_scope() as session:
        failing = dict(session.execute(text("SELECT id, failing_since IS NOT NULL FROM subscriptions")).tuples().all())
        assert failing == {ok: False, broken: True}
        success = session.scalar(text("SELECT last_success_at FROM subscriptions WHERE id = :id"), {"id": ok})
        assert success is not None
