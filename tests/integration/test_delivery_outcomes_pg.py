"""The claim and result rules of tests/unit/deliveries/test_outcomes.py, on PostgreSQL.

On PostgreSQL a claim is one UPDATE … FROM subscriptions … RETURNING and a batch's
results one statement over unnest() arrays (``service/deliveries``); on SQLite both are
plain per-group statements. The same scenarios run here against a real PostgreSQL
database, in-process (no worker), so that the two paths keep one meaning.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.conftest import create_database, drop_database
from tests.unit.deliveries import test_outcomes as scenarios


@pytest.fixture(scope="module", autouse=True)
def postgres_database() -> Iterator[None]:
    from config.settings import get_settings
    from service.db.engine import get_engine, get_sessionmaker
    from service.db.migrate import upgrade

    name = f"bantin_it_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    saved = dict(os.environ)
    os.environ.update(
        BANTIN_ENVIRONMENT="test",
        BANTIN_DATABASE_URL=url,
        BANTIN_BROKER_URL="memory://",
        BANTIN_BASE_URL="https://bantin.example.vn",
    )
    caches = (get_settings, get_engine, get_sessionmaker)
    for cache in caches:
        cache.cache_clear()
    try:
        assert get_engine().dialect.name == "postgresql"
        upgrade()
        yield
    finally:
        get_engine().dispose()
        os.environ.clear()
        os.environ.update(saved)
        for cache in caches:
            cache.cache_clear()
        drop_database(name)


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


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_on_postgresql(scenario: str, request: pytest.FixtureRequest) -> None:
    function = getattr(scenarios, scenario)
    names = function.__code__.co_varnames[: function.__code__.co_argcount]
    function(**{name: request.getfixturevalue(name) for name in names})
