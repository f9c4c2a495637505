"""The claim and result rules of tests/unit/deliveries/test_outcomes.py, on PostgreSQL.

On PostgreSQL a claim is one UPDATE … FROM subscriptions … RETURNING and a batch's
results one statement over unnest() arrays (``service/deliveries``); on SQLite both are
plain per-group statements. The same scenarios run here against a real PostgreSQL
database, in-process (no worker), so that the two paths keep one meaning.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import in_process_postgres
from tests.unit.deliveries import test_outcomes as scenarios


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


@pytest.fixture
def settings_override(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    from config.settings import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


SCENARIOS = [name for name in dir(scenarios) if name.startswith("test_")]


def test_every_scenario_of_the_unit_file_is_run_here() -> None:
    # A renamed or moved unit file would leave this file parametrized over nothing.
    assert len(SCENARIOS) >= 10, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_on_postgresql(scenario: str, request: pytest.FixtureRequest) -> None:
    """The scenario's own assertions, on PostgreSQL: checked before and after it runs, since
    a scenario that reset the settings could otherwise fall back to the unit tests' SQLite."""
    from service.db.engine import get_engine

    function = getattr(scenarios, scenario)
    names = function.__code__.co_varnames[: function.__code__.co_argcount]
    arguments = {name: request.getfixturevalue(name) for name in names}
    assert get_engine().dialect.name == "postgresql"
    function(**arguments)
    assert get_engine().dialect.name == "postgresql"
