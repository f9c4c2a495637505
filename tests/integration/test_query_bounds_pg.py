"""The hostile queries and path segments of tests/unit/console/test_query_bounds.py, on
PostgreSQL: there a NUL byte in text reaches the driver as an error (SQLite takes it), so
the console's search (``?q=%00``), a public category page and a category feed
(``/categories/a%00b``, ``/feeds/categories/a%00b/rss.xml``) and a WebSub topic naming one
were 500s (issue 18, item 12)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from tests.integration.conftest import REDIS_URL, in_process_database
from tests.unit.console.conftest import ORIGIN, login, make_user
from tests.unit.console.test_query_bounds import HOSTILE, refusals


@pytest.fixture(scope="module")
def admin_client() -> Iterator[TestClient]:
    """The whole app on a fresh PostgreSQL database, signed in as an admin; loopback callbacks allowed."""
    with pytest.MonkeyPatch.context() as patch, in_process_database("postgresql"):
        patch.setenv("BANTIN_EGRESS_ALLOW", "127.0.0.1/32")
        from config.settings import get_settings
        from service.api.app import create_app
        from service.auth.throttle import LoginThrottle
        from service.console.security import login_throttle

        get_settings.cache_clear()
        app = create_app()
        throttle = LoginThrottle(redis.Redis.from_url(REDIS_URL))
        app.dependency_overrides[login_throttle] = lambda: throttle
        with TestClient(app, base_url=ORIGIN, follow_redirects=False, raise_server_exceptions=False) as client:
            make_user("quantri", "admin")
            login(client, "quantri")
            yield client
        get_settings.cache_clear()


def test_no_hostile_query_or_path_segment_is_a_500_on_postgresql(admin_client: TestClient) -> None:
    failures = [(url, response.status_code) for url, response in refusals(admin_client) if response.status_code >= 500]
    assert failures == []


def test_the_console_search_refuses_a_nul_byte_by_name(admin_client: TestClient) -> None:
    response = admin_client.get(f"/console/articles?q={HOSTILE['a NUL byte']}")
    assert response.status_code == 422 and "“q”:" in response.text


def test_a_websub_topic_naming_no_slug_is_not_a_feed_of_this_hub(admin_client: TestClient) -> None:
    from config.settings import get_settings

    topic = f"{get_settings().base_url}/feeds/categories/a\x00b/rss.xml"  # a NUL byte once the form is decoded
    form = {"hub.mode": "subscribe", "hub.callback": "http://127.0.0.1:9/cb", "hub.topic": topic}
    response = admin_client.post("/websub", data=form)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "hub.topic"
