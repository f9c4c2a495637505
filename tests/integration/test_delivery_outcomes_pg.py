"""The claim and result rules of tests/unit/deliveries/test_outcomes.py, on PostgreSQL.

On PostgreSQL a claim is one UPDATE … FROM subscriptions … RETURNING and a batch's
results one statement over unnest() arrays (``service/deliveries``); on SQLite both are
plain per-group statements. The same scenarios run here against a real PostgreSQL
database, in-process (no worker), so that the two paths keep one meaning.
"""

from __future__ import annotations

import pytest

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
