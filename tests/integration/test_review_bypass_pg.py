"""The review-bypass scenarios of tests/unit/console/test_review_bypass.py, on PostgreSQL.

The same console and API requests, in-process, against a fresh migrated PostgreSQL
database: a writer's restore, edit or PATCH of an approved scheduled article sends it back
to review there too, and a restore racing the beat never publishes the unreviewed text
(there the row lock orders the two; on SQLite, the editorial policy's conditional hold).
"""

from __future__ import annotations

import pytest

from tests.integration.pg_scenarios import empty_tables, postgres_database, run_on_postgresql, scenario_names
from tests.unit.console import test_review_bypass as scenarios
from tests.unit.console.conftest import app_client, console_app, quick_hashes, redis_server

# Fixtures the module uses: the database, and the console's app and Redis for the scenarios.
__all__ = ["app_client", "console_app", "empty_tables", "postgres_database", "quick_hashes", "redis_server"]
SCENARIOS = scenario_names(scenarios)


def test_every_scenario_of_the_unit_file_is_run_here() -> None:
    # A renamed or moved unit file would leave this file parametrized over nothing.
    assert len(SCENARIOS) >= 4, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_on_postgresql(scenario: str, request: pytest.FixtureRequest) -> None:
    run_on_postgresql(scenarios, scenario, request)
