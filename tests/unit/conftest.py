"""Unit tests run on the embedded database (a real SQLite file, migrated by Alembic).

The broker is kombu's in-memory transport: unit tests check what is written and
sent, never a worker. Integration tests use real Redis, PostgreSQL and workers.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_VAR = Path(tempfile.mkdtemp(prefix="bantin-unit-"))
UNIT_ENV = {
    "BANTIN_ENVIRONMENT": "test",
    "BANTIN_VAR_DIR": str(_VAR),
    "BANTIN_DATABASE_URL": f"sqlite:///{_VAR / 'unit.db'}",
    "BANTIN_BROKER_URL": "memory://",
    "BANTIN_BASE_URL": "https://bantin.example.vn",
    "BANTIN_SITE_TITLE": "Thành ủy Đà Nẵng",
    # Every request checks the stored documents, so a render in a test is seen at once.
    "BANTIN_FEED_RECHECK_SECONDS": "0",
    "BANTIN_SECRET_KEY": "unit-test-secret-key-0123456789abcdef",
}


# Set at import, before any test module imports workers.app (which reads the settings).
# Integration tests build their subprocesses' environment from scratch, so this does not leak.
os.environ.update(UNIT_ENV)


@pytest.fixture(scope="session", autouse=True)
def unit_environment() -> None:
    _clear_caches()
    from service.announcement_kinds import register_all
    from service.db.migrate import upgrade

    upgrade()
    register_all()  # as the worker and the API do at start


def _clear_caches() -> None:
    from config.settings import get_settings
    from service.db.engine import get_engine, get_sessionmaker

    get_settings.cache_clear()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


@pytest.fixture(autouse=True)
def empty_tables(unit_environment: None) -> Iterator[None]:
    yield
    from service.db.engine import get_engine
    from service.db.models import APPEND_ONLY_TABLES, Base
    from tests.append_only import empty_audit_log

    with get_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in APPEND_ONLY_TABLES:  # their triggers refuse a plain DELETE
                connection.execute(table.delete())
        empty_audit_log(connection)


@pytest.fixture
def settings_override(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set BANTIN_* variables for one test; the settings cache is cleared around it."""
    from config.settings import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()
