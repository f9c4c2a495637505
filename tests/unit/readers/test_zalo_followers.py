"""POST /zalo/webhook through the real app (SQLite): follow, unfollow, "hủy", once each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import get_settings
from service.api.app import create_app
from service.db.engine import session_scope
from service.db.models import Announcement, ConsentEvent, Delivery, Subscription, Suppression, ZaloEvent
from service.db.types import utcnow
from service.deliveries.planning import plan_announcement
from service.deliveries.sender import claim
from service.readers import privacy
from service.readers.zalo_webhook import SIGNATURE_HEADER, signature_of

APP_ID = "360846524940903967"
SECRET = "oa-secret-key-for-unit-tests"
USER = "6092148954098787848"


@pytest.fixture
def web(settings_override: pytest.MonkeyPatch) -> Iterator[TestClient]:
    settings_override.setenv("BANTIN_ZALO_APP_ID", APP_ID)
    settings_override.setenv("BANTIN_ZALO_OA_SECRET_KEY", SECRET)
    with TestClient(create_app()) as client:
        yield client


def event(name: str, at: int, user: str = USER, text: str | None = None, msg_id: str | None = None) -> dict[str, Any]:
    if name == "user_send_text":
        message: dict[str, Any] = {"text": text}
        if msg_id:
            message["msg_id"] = msg_id
        return {
            "app_id": APP_ID,
            "event_name": name,
            "timestamp": str(at),
            "sender": {"id": user},
            "recipient": {"id": "579745863508352884"},
            "message": message,
            "user_id_by_app": "55217727971758773",
        }
    return {
        "oa_id": "579745863508352884",
        "follower": {"id": user},
        "user_id_by_app": "55217727971758773",
        "event_name": name,
        "source": "oa_profile",
        "app_id": APP_ID,
        "timestamp": str(at),
    }


def post(web: TestClient, document: dict[str, Any] | bytes, secret: str = SECRET, header: str | None = None) -> Any:
    body = document if isinstance(document, bytes) else json.dumps(document, ensure_ascii=False).encode()
    if header is None:
        stamp = json.loads(body).get("timestamp", "") if isinstance(document, dict) else ""
        header = "mac=" + signature_of(APP_ID, body, str(stamp), secret)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: header} if header else {}
    return web.post("/zalo/webhook", content=body, headers=headers)


def subscriptions() -> list[Subscription]:
    with session_scope() as session:
        rows = list(session.scalars(select(Subscription).where(Subscription.channel == "zalo")))
        session.expunge_all()
        return rows


def counts() -> tuple[int, ...]:
    with session_scope() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Subscription, ConsentEvent, ZaloEvent, Announcement, Delivery)
        )


def notices() -> list[tuple[str, str]]:
    """(announcement type, Vietnamese text) of every message named to a follower."""
    with session_scope() as session:
        return [
            (a.type, a.payload["text"]["vi"])
            for a in session.scalars(select(Announcement).order_by(Announcement.id))
            if a.type.startswith("reader.")
        ]


def test_follow_subscribes_with_consent_and_a_welcome(web: TestClient) -> None:
    answer = post(web, event("follow", 1000))
    assert answer.status_code == 200 and answer.json() == {"outcome": "subscribed"}
    [sub] = subscriptions()
    assert (sub.target, sub.status, sub.events, sub.categories, sub.frequency) == (USER, "active", [], [], "each")
    with session_scope() as session:
        [consent] = session.scalars(select(ConsentEvent))
        assert (consent.action, consent.channel, consent.method) == ("given", "zalo", "follow")
        assert consent.text_version == "zalo-2026-11-29" and consent.detail["event"] == "follow"
    [(kind, text)] = notices()
    assert kind == "reader.welcome" and "“hủy”" in text and "Thành ủy Đà Nẵng" in text
    # An article is planned for the follower like for any subscriber.
    with session_scope() as session:
        planned = plan_announcement(
            session,
            source_key="article:1",
            event_type="article.published",
            payload={"article": {"title": "Tin"}},
            now=utcnow(),
            settings=get_settings(),
        )
        assert len(planned) == 1


def test_an_event_redelivered_is_handled_once(web: TestClient) -> None:
    assert post(web, event("follow", 1000)).json() == {"outcome": "subscribed"}
    before = counts()
    assert post(web, event("follow", 1000)).json() == {"outcome": "duplicate"}
    assert counts() == before
    stop = event("user_send_text", 2000, text="hủy", msg_id="m-1")
    assert post(web, stop).json() == {"outcome": "stopped"}
    after_stop = counts()
    # Zalo's redelivery of the same message (same msg_id) changes nothing, even with another timestamp.
    assert post(web, {**stop, "timestamp": "2500"}).json() == {"outcome": "duplicate"}
    assert counts() == after_stop


def test_unfollow_ends_the_subscription_and_fails_what_was_pending(web: TestClient) -> None:
    post(web, event("follow", 1000))
    answer = post(web, event("unfollow", 2000))
    assert answer.json() == {"outcome": "unsubscribed"}
    [sub] = subscriptions()
    assert sub.status == "disabled" and "unfollow" in (sub.status_reason or "")
    with session_scope() as session:
        actions = [(c.action, c.method) for c in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]
        assert actions == [("given", "follow"), ("withdrawn", "follow")]
        # The welcome not sent yet will not be: the follower left.
        assert [d.status for d in session.scalars(select(Delivery))] == ["failed"]
    # No reply to someone who left; the next article plans nothing for them.
    assert [kind for kind, _ in notices()] == ["reader.welcome"]
    with session_scope() as session:
        assert not plan_announcement(
            session,
            source_key="article:2",
            event_type="article.published",
            payload={"article": {"title": "Tin"}},
            now=utcnow(),
            settings=get_settings(),
        )


@pytest.mark.parametrize("word", ["hủy", "HỦY", "Huỷ", "huy", "Hu\u0309y", "stop", "Hủy đăng ký"])
def test_huy_in_the_chat_ends_it_and_the_reply_goes_anyway(web: TestClient, word: str) -> None:
    post(web, event("follow", 1000))
    answer = post(web, event("user_send_text", 2000, text=word, msg_id=f"m-{word}"))
    assert answer.json() == {"outcome": "stopped"}
    [sub] = subscriptions()
    assert sub.status == "disabled" and sub.status_reason == "the follower asked to stop in the Official Account chat"
    assert [kind for kind, _ in notices()] == ["reader.welcome", "reader.stopped"]
    assert "Bạn đã hủy nhận tin" in notices()[1][1]
    with session_scope() as session:
        assert [c.method for c in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))] == ["follow", "bot"]
        pending = list(session.scalars(select(Delivery.id).where(Delivery.status == "pending")))
        # The reply is claimed although the subscription is ended (the welcome is not: failed).
        messages = claim(session, pending, utcnow(), get_settings())
        assert [m.event_type for m in messages] == ["reader.stopped"] and messages[0].target == USER


def test_start_again_after_a_stop_and_other_text_is_ignored(web: TestClient) -> None:
    post(web, event("follow", 1000))
    assert post(web, event("user_send_text", 1500, text="Xin chào")).json() == {"outcome": "ignored"}
    post(web, event("user_send_text", 2000, text="hủy"))
    assert post(web, event("user_send_text", 3000, text="Đăng ký")).json() == {"outcome": "subscribed"}
    [sub] = subscriptions()
    assert sub.status == "active" and sub.status_reason is None


def test_an_older_event_arriving_late_changes_nothing(web: TestClient) -> None:
    post(web, event("follow", 1000))
    post(web, event("unfollow", 3000))
    # Zalo retried the follow of 2000 for a while: it must not undo the newer unfollow.
    assert post(web, event("follow", 2000)).json() == {"outcome": "stale"}
    assert subscriptions()[0].status == "disabled"
    assert post(web, event("follow", 4000)).json() == {"outcome": "subscribed"}
    assert subscriptions()[0].status == "active" and len(subscriptions()) == 1


def test_following_again_lifts_a_forget_me(web: TestClient) -> None:
    post(web, event("follow", 1000))
    with session_scope() as session:
        assert privacy.forget(session, USER, utcnow()) == 1
        assert privacy.is_suppressed(session, "zalo", USER)
    assert post(web, event("follow", 2000)).json() == {"outcome": "subscribed"}
    with session_scope() as session:
        assert not privacy.is_suppressed(session, "zalo", USER)
        assert session.scalar(select(func.count()).select_from(Suppression)) == 0
    assert [s.status for s in subscriptions() if s.target == USER] == ["active"]


@pytest.mark.parametrize(
    ("header", "secret", "detail"),
    [
        ("", SECRET, "X-ZEvent-Signature is missing"),
        ("mac=nothex", SECRET, "X-ZEvent-Signature is malformed"),
        (None, "not-the-oa-secret", "X-ZEvent-Signature is wrong"),
    ],
)
def test_an_unsigned_or_wrongly_signed_event_is_refused_and_nothing_stored(
    web: TestClient, header: str | None, secret: str, detail: str
) -> None:
    answer = post(web, event("follow", 1000), secret=secret, header=header)
    assert answer.status_code == 401 and answer.json() == {"detail": detail}
    assert counts() == (0, 0, 0, 0, 0)


def test_a_signed_body_changed_in_transit_is_refused(web: TestClient) -> None:
    body = json.dumps(event("follow", 1000)).encode()
    header = "mac=" + signature_of(APP_ID, body, "1000", SECRET)
    tampered = body.replace(USER.encode(), b"1111111111111111111")
    answer = web.post("/zalo/webhook", content=tampered, headers={SIGNATURE_HEADER: header})
    assert answer.status_code == 401 and counts() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b"{oops", "body", "is not valid JSON"),
        (b"\xff\xfe", "body", "is not valid JSON: not UTF-8"),
        (b'{"event_name": "follow", "timestamp": "1", "follower": ' + b"[" * 500 + b"]" * 500 + b"}", "body", "is not"),
        (b"[]", "body", "must be a JSON object, not list"),
        (b"", "body", "is empty"),
        (b'{"event_name": "follow"}', "timestamp", "is required"),
        (json.dumps({"event_name": "follow", "timestamp": "1"}).encode(), "follower.id", "is required"),
        (
            json.dumps({"event_name": "user_send_text", "timestamp": "1", "sender": {"id": USER}}).encode(),
            "message.text",
            "is required",
        ),
    ],
)
def test_a_malformed_event_is_a_400_naming_the_field(web: TestClient, body: bytes, field: str, message: str) -> None:
    stamp = "1" if b'"timestamp"' in body else ""
    header = "mac=" + signature_of(APP_ID, body, stamp, SECRET)
    answer = web.post("/zalo/webhook", content=body, headers={SIGNATURE_HEADER: header})
    assert answer.status_code == 400
    [item] = answer.json()["detail"]
    assert item["field"] == field and item["message"].startswith(message) and item["type"] == "invalid"
    assert counts() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"timestamp": "1000", "event_name": "follow", "follower": ' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"timestamp": "1000", "event_name": "follow", "x": "\xff"}',
    ],
)
def test_the_signature_is_checked_before_the_body_is_parsed(web: TestClient, body: bytes) -> None:
    # Unsigned, bytes no parser takes are refused for their signature alone: a 401, never a 500.
    unsigned = web.post("/zalo/webhook", content=body, headers={SIGNATURE_HEADER: "mac=" + "0" * 64})
    assert unsigned.status_code == 401 and unsigned.json() == {"detail": "X-ZEvent-Signature is wrong"}
    # Signed (as Zalo never would), they are a 400 naming the body.
    stamp = "1000" if b'"timestamp"' in body else ""
    signed = web.post(
        "/zalo/webhook", content=body, headers={SIGNATURE_HEADER: "mac=" + signature_of(APP_ID, body, stamp, SECRET)}
    )
    assert signed.status_code == 400
    assert signed.json()["detail"][0]["field"] == "body"
    assert counts() == (0, 0, 0, 0, 0)


def test_unknown_event_kinds_are_answered_200_and_ignored(web: TestClient) -> None:
    sticker = {"app_id": APP_ID, "event_name": "user_send_sticker", "timestamp": "1000", "sender": {"id": USER}}
    assert post(web, sticker).json() == {"outcome": "ignored"}
    assert post(web, sticker).json() == {"outcome": "ignored"}
    assert post(web, event("user_send_text", 1001, text="Xin chào", msg_id="m-hello")).json() == {"outcome": "ignored"}
    # Nothing to do, so nothing kept: not even the event's key.
    assert counts() == (0, 0, 0, 0, 0)


def test_unconfigured_the_webhook_answers_503(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_ZALO_APP_ID", "")
    with TestClient(create_app()) as client:
        answer = client.post("/zalo/webhook", content=b"{}")
    assert answer.status_code == 503 and "BANTIN_ZALO_OA_SECRET_KEY" in answer.json()["detail"]


def test_the_webhook_never_logs_a_follower_id(web: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    post(web, event("follow", 1000))
    post(web, event("user_send_text", 2000, text="hủy"))
    post(web, event("follow", 3000), secret="wrong")
    assert caplog.records and all(USER not in r.getMessage() for r in caplog.records)
    assert all(USER not in json.dumps(r.__dict__, default=str) for r in caplog.records)


def test_a_follower_id_quoted_by_a_driver_error_is_masked_in_log_lines() -> None:
    from service.observability.logs import redact

    line = f"IntegrityError [parameters: {{'target': '{USER}'}}] at 1623139845046 for msg_{'0' * 31}a"
    assert redact(line) == "IntegrityError [parameters: {'target': '***'}] at 1623139845046 for msg_" + "0" * 31 + "a"
