"""The Idempotency-Key scenarios of tests/unit/api/test_idempotency.py, on PostgreSQL.

There a second request with a key waits on the first one's unique-index entry until it
commits (on SQLite, on the write lock): the same rule, another mechanism underneath, so
every scenario runs here too, in-process (the API's own code, no worker), against a fresh
PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import in_process_database
from tests.unit.api import test_idempotency as scenarios

PER_OPERATION = (
    "test_the_same_key_and_request_get_the_first_answer_and_nothing_is_done_twice",
    "test_the_same_key_with_another_request_is_refused_naming_the_header",
    "test_requests_with_one_key_at_once_are_one_request",
)


@pytest.fixture(scope="module")
def raw_client() -> Iterator[TestClient]:
    """One app for the module (each app listens for document changes on a connection of its own)."""
    with in_process_database("postgresql"):
        from service.api.app import create_app
        from service.db.engine import get_engine

        assert get_engine().dialect.name == "postgresql"
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield client


@pytest.fixture(autouse=True)
def empty_tables(raw_client: TestClient) -> Iterator[None]:
    yield
    from service.db.engine import get_engine
    from service.db.models import APPEND_ONLY_TABLES, Base
    from tests.append_only import empty_audit_log

    with get_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in APPEND_ONLY_TABLES:  # their triggers refuse a plain DELETE
                connection.execute(table.delete())
        empty_audit_log(connection)


def test_every_post_is_covered(raw_client: TestClient) -> None:
    scenarios.test_every_post_of_the_api_takes_the_key_and_has_a_scenario_here(raw_client)


@pytest.mark.parametrize("operation", scenarios.SCENARIOS)
@pytest.mark.parametrize("scenario", PER_OPERATION)
def test_on_postgresql(raw_client: TestClient, scenario: str, operation: str) -> None:
    from service.db.engine import get_engine

    getattr(scenarios, scenario)(raw_client, operation)
    assert get_engine().dialect.name == "postgresql"


@pytest.mark.parametrize("undo", ["forget", "delete"])
def test_a_kept_answer_goes_with_its_subscription_on_postgresql(raw_client: TestClient, undo: str) -> None:
    scenarios.test_a_kept_answer_quoting_a_subscription_goes_when_it_is_forgotten_or_deleted(raw_client, undo)
