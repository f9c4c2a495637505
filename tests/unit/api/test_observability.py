"""Request ids, request and feed metrics by template, and the database's queue depths."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.db.engine import session_scope
from service.db.models import Reminder, ReminderStatus
from service.db.types import utcnow
from tests.unit.api.test_feeds_api import ARTICLE, publish_and_render


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and int(made, 16) >= 0
    # Something that could forge a log line or carry a payload is replaced, not echoed.
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" level=ERROR ' + "a" * 200})
    assert forged.headers["x-request-id"] != "abc-123" and len(forged.headers["x-request-id"]) == 32


def test_requests_are_counted_by_route_template_not_by_path(client: TestClient, publisher: dict[str, str]) -> None:
    before = samples(client)
    article = publish_and_render(client, publisher)
    for _ in range(2):
        assert client.get(f"/articles/{article['id']}/{article['slug']}").status_code == 200
    client.get("/no/such/page/123")
    after = samples(client)
    route = "/articles/{article_id}/{slug}"
    key = {"method": "GET", "route": route, "status": "200"}
    assert value(after, "bantin_http_requests_total", **key) - value(before, "bantin_http_requests_total", **key) == 2
    assert value(after, "bantin_http_request_duration_seconds_count", method="GET", route=route) >= 2
    assert value(after, "bantin_http_requests_total", method="GET", route="<unmatched>", status="404") >= 1
    assert not any(article["slug"] in dict(labels).get("route", "") for _, labels in after)


def test_feed_gets_are_counted_as_200_or_304(client: TestClient, publisher: dict[str, str]) -> None:
    publish_and_render(client, publisher)
    before = samples(client)
    first = client.get("/feeds/categories/xay-dung-dang/atom.xml")
    client.get("/feeds/categories/xay-dung-dang/atom.xml", headers={"If-None-Match": first.headers["etag"]})
    client.get("/feeds/categories/xay-dung-dang/atom.xml", headers={"If-None-Match": first.headers["etag"]})
    client.get("/feeds/categories/made-up-slug/atom.xml")  # 404: not a feed, not a label
    after = samples(client)
    feed = {"feed": "category:xay-dung-dang", "format": "atom"}
    counted = "bantin_feed_requests_total"
    assert value(after, counted, **feed, status="200") - value(before, counted, **feed, status="200") == 1
    assert value(after, counted, **feed, status="304") - value(before, counted, **feed, status="304") == 2
    assert not any("made-up-slug" in dict(labels).get("feed", "") for _, labels in after)


def test_queue_depths_come_from_the_database(client: TestClient, publisher: dict[str, str]) -> None:
    client.post("/api/v1/articles", json=ARTICLE, headers=publisher)  # its event is not handled in-process
    with session_scope() as session:
        now = utcnow()
        due = session.query(Reminder).filter(Reminder.status == ReminderStatus.PLANNED).limit(2).all()
        for reminder in due:  # two seed reminders whose time has come, and one missed yesterday
            reminder.due_at = now - timedelta(hours=1)
        due[1].status, due[1].due_at = ReminderStatus.MISSED.value, now - timedelta(days=1)
    found = samples(client)
    assert value(found, "bantin_database_up") == 1
    assert value(found, "bantin_outbox_lag_seconds") > 0
    assert value(found, "bantin_reminders_due_unsent") == 1
    assert value(found, "bantin_reminders_missed") == 1
    assert value(found, "bantin_delivery_retry_backlog") == 0
    for status in ("pending", "sending", "delivered", "failed"):
        assert ("bantin_recent_deliveries", frozenset({("status", status)})) in found


def test_access_lines_name_the_route_and_the_ids_in_its_path(
    client: TestClient, publisher: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    article = publish_and_render(client, publisher)
    caplog.clear()  # the publishing's own line, logged when an earlier test left the logger at INFO
    with caplog.at_level(logging.INFO, logger="bantin.access"):
        client.get(f"/articles/{article['id']}/{article['slug']}")
        client.get("/unsubscribe/not-a-real-token")
    page, unsubscribe = [r for r in caplog.records if r.name == "bantin.access"]
    assert page.getMessage().startswith("GET /articles/{article_id}/{slug} 200 ")
    assert str(vars(page)["article_id"]) == str(article["id"]) and not hasattr(page, "slug")
    assert vars(unsubscribe)["route"] == "/unsubscribe/{token}" and not hasattr(unsubscribe, "token")
    assert "not-a-real-token" not in unsubscribe.getMessage()
