"""The review-bypass scenarios of tests/unit/console/test_review_bypass.py, on PostgreSQL.

The same console and API requests, in-process, against a fresh migrated PostgreSQL
database: a writer's restore, edit or PATCH of an approved scheduled article sends it back
to review there too, and a restore racing the beat never publishes the unreviewed text
(there the row lock orders the two; on SQLite, the editorial policy's conditional hold).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import in_process_postgres
from tests.unit.console import test_review_bypass as scenarios
from tests.unit.console.conftest import app_client, quick_hashes, redis_server

__all__ = ["app_client", "quick_hashes", "redis_server"]  # fixtures the scenarios use


@pytest.fixture(scope="module", autouse=True)
def postgres_database() -> Iterator[None]:
    with in_process_postgres():
        yield


@pytest.fixture(autouse=True)
def empty_tables() -> Iterator[None]:
    yield
    from service.db.engine import get_engine
    from service.db.models import Base

    with get_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


SCENARIOS = [name for name in dir(scenarios) if name.startswith("test_")]


def test_every_scenario_of_the_unit_file_is_run_here() -> None:
    # A renamed or moved unit file would leave this file parametrized over nothing.
    assert len(SCENARIOS) >= 4, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_on_postgresql(scenario: str, request: pytest.FixtureRequest) -> None:
    """The scenario's own assertions, on PostgreSQL (checked before and after it runs)."""
    from service.db.engine import get_engine

    function = getattr(scenarios, scenario)
    names = function.__code__.co_varnames[: function.__code__.co_argcount]
    arguments = {name: request.getfixturevalue(name) for name in names}
    assert get_engine().dialect.name == "postgresql"
    function(**arguments)
    assert get_engine().dialect.name == "postgresql"
