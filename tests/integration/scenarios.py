"""A unit test file's scenarios run again on PostgreSQL, in-process (no worker): where a
rule has a statement per database (deliveries' claim and results, search), both must
keep one meaning. A module that does this sets
``pytestmark = pytest.mark.usefixtures("postgres_in_process", "tables_emptied")`` and
parametrizes one test over ``scenario_names(module)``."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration.conftest import in_process_postgres


@pytest.fixture(scope="module")
def postgres_in_process() -> Iterator[None]:
    """This process's settings and engine on a fresh, migrated PostgreSQL database for the module."""
    with in_process_postgres():
        yield


@pytest.fixture
def tables_emptied() -> Iterator[None]:
    """Every model's table emptied after the test, as the unit tests' own fixture does on SQLite."""
    yield
    from service.db.engine import get_engine
    from service.db.models import Base

    with get_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def scenario_names(module: ModuleType) -> list[str]:
    """The test functions of ``module`` that take fixtures only (a parametrized one checks
    its inputs' parsing, which no database takes part in)."""
    return [
        name
        for name in dir(module)
        if name.startswith("test_")
        and not any(mark.name == "parametrize" for mark in getattr(getattr(module, name), "pytestmark", []))
    ]


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
