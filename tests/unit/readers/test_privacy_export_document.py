"""The privacy export's document, byte for byte: a subscriber with every kind of record
(consent with details, a sign-up request, deliveries with and without attempts, a digest),
exported by ``bantin subscribers export`` and by the admin API, against
``tests/data/privacy_export.json`` — the output of the hand-made dicts the export was built
from before its pydantic models (issue 19 §3), so a change of key, order, date format or
escaping shows here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.cli.main import app as cli
from service.db.engine import session_scope
from service.db.models import (
    Announcement,
    ConsentEvent,
    Delivery,
    DeliveryAttempt,
    Digest,
    SubscribeRequest,
    Subscription,
)
from tests.unit.api.conftest import make_token

EXPECTED = Path(__file__).parents[2] / "data" / "privacy_export.json"
ADDRESS = "ban.doc@example.vn"
CREATED = datetime(2027, 2, 3, 1, 0, 0, 123456, tzinfo=UTC)
LATER = datetime(2027, 2, 4, 8, 30, tzinfo=UTC)


def held_subscriber() -> None:
    with session_scope() as session:
        sub = Subscription(
            channel="email",
            target=ADDRESS,
            events=["article.published"],
            categories=["thoi-su", "van-hoa"],
            locale="vi",
            options={"ghi_chú": "đọc buổi sáng"},
            status="active",
            status_reason=None,
            secret="never exported",
            unsubscribe_token="never-exported-either",
            frequency="daily",
            digest_since=LATER,
            failing_since=None,
            last_success_at=LATER,
            created_at=CREATED,
            updated_at=LATER,
        )
        session.add(sub)
        session.flush()
        session.add_all(
            [
                ConsentEvent(
                    subscription_id=sub.id, action="given", channel="email", method="form", text_version="2026-11",
                    client_address="203.0.113.7", detail={"danh_mục": ["thoi-su"], "tần_suất": "daily"}, at=CREATED,
                ),
                ConsentEvent(
                    subscription_id=sub.id, action="changed", channel="email", method="form", text_version=None,
                    client_address=None, detail={}, at=LATER,
                ),
                SubscribeRequest(
                    subscription_id=sub.id, token_hash="h" * 64, token_salt="s" * 16, domain="example.vn",
                    categories=["thoi-su"], frequency="daily", locale="vi", consent_version="2026-11",
                    client_address="203.0.113.7", created_at=CREATED, expires_at=LATER, used_at=LATER,
                ),
            ]
        )  # fmt: skip
        announcement = Announcement(source_key="event:1", type="article.published", payload={}, created_at=CREATED)
        notice = Announcement(source_key="manage:1", type="reader.manage", payload={}, created_at=LATER)
        session.add_all([announcement, notice])
        session.flush()
        session.add_all(
            [
                Delivery(
                    id="msg_" + "1" * 32, announcement_id=announcement.id, subscription_id=sub.id, status="delivered",
                    attempts=2, next_attempt_at=CREATED, created_at=CREATED, delivered_at=LATER,
                    last_status_code=250, last_error=None,
                ),
                Delivery(
                    id="msg_" + "2" * 32, announcement_id=notice.id, subscription_id=sub.id, status="pending",
                    attempts=0, next_attempt_at=LATER, created_at=LATER, delivered_at=None,
                    last_status_code=None, last_error="Hộp thư đầy",
                ),
            ]
        )  # fmt: skip
        session.flush()
        session.add_all(
            [
                DeliveryAttempt(
                    delivery_id="msg_" + "1" * 32, attempted_at=CREATED, status_code=452,
                    error=f"452 {ADDRESS}: hộp thư đầy", duration_ms=31,
                ),
                DeliveryAttempt(delivery_id="msg_" + "1" * 32, attempted_at=LATER, status_code=250, duration_ms=12),
                Digest(
                    subscription_id=sub.id, frequency="daily", period_start=LATER, covers_from=CREATED,
                    status="planned", article_ids=[7, 3], delivery_id=None, created_at=LATER,
                ),
            ]
        )  # fmt: skip


def test_the_cli_writes_the_same_document_as_before() -> None:
    held_subscriber()
    result = CliRunner().invoke(cli, ["subscribers", "export", ADDRESS])
    assert result.exit_code == 0, result.output
    assert result.output == EXPECTED.read_text(encoding="utf-8")


def test_the_admin_api_answers_the_same_bytes_as_before() -> None:
    held_subscriber()
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    with TestClient(create_app()) as web:
        answer = web.get(
            "/api/v1/subscribers/export",
            params={"target": ADDRESS},
            headers={"Authorization": f"Bearer {make_token('admin')}"},
        )
    assert answer.status_code == 200, answer.text
    # Starlette's JSONResponse: compact, UTF-8, keys in the document's order.
    assert answer.content == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
