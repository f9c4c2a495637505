"""Export and forget (Decree 13/2023/NĐ-CP, art. 9) by e-mail address, Telegram chat id or
Zalo follower id: everything held comes out, forget keeps only anonymous counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from config.settings import get_settings
from service.api.app import create_app
from service.cli.main import app as cli
from service.db.engine import session_scope
from service.db.models import Delivery, DeliveryAttempt, Subscription
from service.deliveries.planning import Named, plan_announcement
from service.readers import privacy
from service.readers.consent import record_consent
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription
from tests.unit.api.conftest import make_token

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def subscribe(channel: str, target: str) -> int:
    """A subscription with one consent event and one delivery that failed once, then succeeded."""
    data = SubscriptionCreate.model_validate({"channel": channel, "target": target})
    with session_scope() as session:
        sub = create_subscription(session, data, NOW, get_settings())[0]
        record_consent(session, subscription_id=sub.id, action="given", channel=channel, method="admin", now=NOW)
        [delivery_id] = plan_announcement(
            session,
            source_key=f"article:{sub.id}",
            event_type="article.published",
            payload={"article": {"title": "Tin"}},
            now=NOW,
            settings=get_settings(),
            audience=Named((sub.id,)),
        )
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id, attempted_at=NOW, status_code=550, error=f"550 {target} refused", duration_ms=7
            )
        )
        session.add(DeliveryAttempt(delivery_id=delivery_id, attempted_at=NOW, status_code=200, duration_ms=5))
        return sub.id


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("channel", "target"),
    [("zalo", "6092148954098787848"), ("telegram", "-1001234567890"), ("telegram", "@bantin_danang")],
)
def test_a_chat_id_or_follower_id_is_exported_and_forgotten_from_the_cli(channel: str, target: str) -> None:
    sub_id = subscribe(channel, target)
    # A group's chat id starts with "-": after "--", as for any argument that looks like an option.
    code, output = run("subscribers", "export", "--", target)
    assert code == 0, output
    document = json.loads(output)
    [held] = document["subscriptions"]
    assert (held["id"], held["channel"], held["target"]) == (sub_id, channel, target)
    assert held["consent"][0]["method"] == "admin"
    [delivery] = held["deliveries"]
    assert delivery["event"] == "article.published"
    assert [(a["status_code"], a["error"]) for a in delivery["attempt_log"]] == [
        (550, f"550 {target} refused"),
        (200, None),
    ]
    assert "secret" not in held and "unsubscribe_token" not in held

    assert run("subscribers", "forget", "--yes", "--", target) == (0, "1 subscriptions forgotten\n")
    code, output = run("subscribers", "export", "--", target)
    assert json.loads(output) == {"target": target, "suppressed": True, "subscriptions": []}
    with session_scope() as session:
        tombstone = session.get(Subscription, sub_id)
        assert tombstone is not None and tombstone.target == f"forgotten:{sub_id}"
        # The counts stay: one delivery, two attempts; nothing in them names the subscriber.
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
        errors = list(session.scalars(select(DeliveryAttempt.error).order_by(DeliveryAttempt.id)))
        assert errors == ["[forgotten]", None]


def test_an_address_the_admin_api_stored_with_capitals_is_found_however_it_is_typed() -> None:
    subscribe("email", "Ban.Doc@Example.VN")
    with session_scope() as session:
        stored = session.scalars(select(Subscription.target)).one()
        assert stored == "Ban.Doc@example.vn"  # email_validator lower-cases the domain only
        for typed in ("Ban.Doc@example.vn", "Ban.Doc@EXAMPLE.vn", " Ban.Doc@Example.VN "):
            assert [s.target for s in privacy.find(session, typed)] == [stored], typed


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("", "must be an e-mail address"),
        ("   ", "must be an e-mail address"),
        ("a\x00b", "control characters"),
        ("x" * 2001, "at most 2000 characters"),
    ],
)
def test_a_bad_target_is_a_usage_error_naming_why(target: str, reason: str) -> None:
    for command in (["subscribers", "export", target], ["subscribers", "forget", target, "--yes"]):
        code, output = run(*command)
        said = " ".join(output.replace("│", " ").split())  # rich draws a box and wraps the lines
        assert code == 2 and "Invalid value for 'ADDRESS_OR_CHAT'" in said and reason in said, output


def test_the_admin_api_refuses_the_same_targets_with_422() -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    with TestClient(create_app()) as web:
        for target in ("  ", "a\x01b"):
            answer = web.get("/api/v1/subscribers/export", params={"target": target}, headers=admin)
            assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "target", answer.text
            answer = web.post("/api/v1/subscribers/forget", json={"target": target}, headers=admin)
            assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "target", answer.text
        too_long = web.post("/api/v1/subscribers/forget", json={"target": "x" * 2001}, headers=admin)
        assert too_long.status_code == 422 and "2000" in too_long.json()["detail"][0]["message"]
        # The follower id works through the API as through the CLI.
        subscribe("zalo", "6092148954098787848")
        exported = web.get("/api/v1/subscribers/export", params={"target": "6092148954098787848"}, headers=admin)
        assert exported.json()["subscriptions"][0]["channel"] == "zalo"
