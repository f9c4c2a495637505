"""The reader pages' fixtures: the whole app over HTTPS, fresh rate limiters and mail health."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api import reader_forms
from service.api.app import create_app
from service.channels import mail_relay


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    reader_forms.limiters.clear()
    mail_relay.forget()
    yield
    reader_forms.limiters.clear()
    mail_relay.forget()


@pytest.fixture
def web() -> Iterator[TestClient]:
    # HTTPS, as BANTIN_BASE_URL says: the CSRF cookie is __Host- and Secure.
    with TestClient(create_app(), base_url="https://testserver", follow_redirects=False) as client:
        yield client
