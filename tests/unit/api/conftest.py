from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.tokens import create_token
from service.db.engine import session_scope
from service.db.types import utcnow


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def raw_client() -> Iterator[TestClient]:
    """An app whose 500s are answers to assert on, not exceptions raised in the test."""
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def make_token(*scopes: str) -> str:
    with session_scope() as session:
        return create_token(session, "test", list(scopes), utcnow())[1]


@pytest.fixture
def publisher() -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token('publish')}"}
