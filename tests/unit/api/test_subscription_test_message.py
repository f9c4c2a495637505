"""A test message to one subscription: the same domain function behind the API, the CLI
and the console; a delivery row (announcement ``subscription.test``) like any other."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from service.announcements.compose import render_text
from service.cli.main import app
from service.db.engine import session_scope
from service.db.models import Announcement, Delivery
from tests.unit.api.conftest import make_token


def test_the_api_plans_one_delivery_to_that_subscription_alone(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    target = client.post("/api/v1/subscriptions", json={"channel": "email", "target": "a@example.vn"}, headers=admin)
    other = client.post("/api/v1/subscriptions", json={"channel": "email", "target": "b@example.vn"}, headers=admin)
    assert target.status_code == other.status_code == 201
    sent = client.post(f"/api/v1/subscriptions/{target.json()['id']}/test", headers=admin)
    assert sent.status_code == 202, sent.text
    with session_scope() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.id == sent.json()["delivery_id"] and delivery.subscription_id == target.json()["id"]
        announcement = session.get(Announcement, delivery.announcement_id)
        assert announcement is not None and announcement.type == "subscription.test"
        words = render_text(announcement.type, announcement.payload, "vi")
    assert words.subject.startswith("Tin thử: Kênh này đã được nối với bản tin.")
    # A second test is a second message, not a duplicate dropped by the source key.
    assert client.post(f"/api/v1/subscriptions/{target.json()['id']}/test", headers=admin).status_code == 202
    with session_scope() as session:
        assert len(session.scalars(select(Delivery.id)).all()) == 2


def test_a_paused_subscription_is_a_conflict_and_an_unknown_one_404(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    created = client.post("/api/v1/subscriptions", json={"channel": "email", "target": "a@example.vn"}, headers=admin)
    sub_id = created.json()["id"]
    client.patch(f"/api/v1/subscriptions/{sub_id}", json={"status": "paused"}, headers=admin)
    assert client.post(f"/api/v1/subscriptions/{sub_id}/test", headers=admin).status_code == 409
    assert client.post("/api/v1/subscriptions/999/test", headers=admin).status_code == 404
    publisher = {"Authorization": f"Bearer {make_token('publish')}"}
    assert client.post(f"/api/v1/subscriptions/{sub_id}/test", headers=publisher).status_code == 403
    with session_scope() as session:
        assert session.scalars(select(Delivery.id)).all() == []


def test_the_cli_prints_the_delivery_id(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    created = client.post("/api/v1/subscriptions", json={"channel": "email", "target": "a@example.vn"}, headers=admin)
    result = CliRunner().invoke(app, ["subscribers", "test", str(created.json()["id"])])
    assert result.exit_code == 0, result.output
    with session_scope() as session:
        assert result.output.strip() == session.scalars(select(Delivery.id)).one()
    refused = CliRunner().invoke(app, ["subscribers", "test", "999"])
    assert refused.exit_code != 0 and "does not exist" in refused.output
