"""Running a unit file's scenarios on PostgreSQL, in-process: the module fixtures that point
the process at a fresh migrated database and empty it after each test, and the call that
runs one scenario with its fixtures (tests/integration/test_*_pg.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration.conftest import in_process_database
from tests.tables import empty_all_tables


@pytest.fixture(scope="module", autouse=True)
def postgres_database() -> Iterator[None]:
    with in_process_database("postgresql"):
        yield


@pytest.fixture(autouse=True)
def empty_tables() -> Iterator[None]:
    yield
    empty_all_tables()


def scenario_names(module: ModuleType) -> list[str]:
    """The module's test functions, by name."""
    return [name for name in dir(module) if name.startswith("test_")]


def run_on_postgresql(module: ModuleType, scenario: str, request: pytest.FixtureRequest) -> None:
    """The scenario's own assertions, on PostgreSQL: checked before and after it runs, since
    a scenario that reset the settings could otherwise fall back to the unit tests' SQLite."""
    from service.db.engine import get_engine

    function = getattr(module, scenario)
    names = function.__code__.co_varnames[: function.__code__.co_argcount]
    arguments = {name: request.getfixturevalue(name) for name in names}
    assert get_engine().dialect.name == "postgresql"
    function(**arguments)
    assert get_engine().dialect.name == "postgresql"
