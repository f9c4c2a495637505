"""Corrections (decision 0043): who receives one, who may publish one, what bad input does."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update

from config.settings import get_settings
from service.articles.corrections import MAX_CORRECTION_CHARS, CorrectionIn, publish_correction
from service.articles.editorial import NotPermitted, WrongState
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article, withdraw_article
from service.db.engine import session_scope
from service.db.models import (
    Announcement,
    ArticleCorrection,
    AuditEvent,
    Delivery,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    Subscription,
)
from service.deliveries.planning import Chunk
from service.errors import InvalidField
from service.events.announce import original_recipients, plan_event_announcement, plan_event_chunk
from tests.actors import OPERATOR, staff

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)
EDITOR = staff("user:bien-tap", "editor")
WRITER = staff("user:phong-vien", "writer")
FIX = CorrectionIn(wrong="Lễ kỷ niệm lần thứ 96", right="Lễ kỷ niệm lần thứ 97", apology=True)


def subscribe(channel: str, target: str, **fields: object) -> int:
    with session_scope() as session:
        row = Subscription(
            channel=channel, target=target, events=[], categories=[], locale="vi", options={},
            unsubscribe_token=secrets.token_hex(16), created_at=NOW, **fields,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def publish(title: str = "Kỷ niệm 97 năm Ngày thành lập Đảng") -> int:
    data = ArticleCreate(title=title, body_html="<p>Nội dung bài.</p>", categories=["Thời sự"])
    with session_scope() as session:
        return create_article(session, data, NOW, get_settings(), OPERATOR).article.id


def announce(article_id: int, event_type: EventType) -> list[str]:
    """Plan the deliveries of the article's newest event of ``event_type``, as events.announce does."""
    with session_scope() as session:
        event_id = session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.article_id == article_id, OutboxEvent.type == event_type.value)
            .order_by(OutboxEvent.id.desc())
        ).first()
        assert event_id is not None
        plan_event_announcement(session, event_id, NOW, get_settings())
        planned = select(Delivery.id).join(Announcement, Announcement.id == Delivery.announcement_id)
        return list(session.scalars(planned.where(Announcement.source_key == f"event:{event_id}")))


def mark(delivery_ids: dict[int, str], subscription_id: int, status: DeliveryStatus) -> None:
    with session_scope() as session:
        session.execute(
            update(Delivery).where(Delivery.id == delivery_ids[subscription_id]).values(status=status.value)
        )


def recipients_of(planned: list[str]) -> dict[int, str]:
    with session_scope() as session:
        rows = session.execute(select(Delivery.subscription_id, Delivery.id).where(Delivery.id.in_(planned)))
        return {int(row.subscription_id): str(row.id) for row in rows}


def test_a_correction_goes_to_those_who_received_the_original_and_are_still_subscribed() -> None:
    webhook = subscribe("webhook", "https://8.8.8.8/hook")
    mail = subscribe("email", "ban-doc@example.vn")
    left = subscribe("email", "da-huy@example.vn")  # received it, unsubscribed since
    failed = subscribe("webhook", "https://8.8.4.4/hook")  # its delivery never succeeded
    still_sending = subscribe("webhook", "https://1.1.1.1/hook")
    digest = subscribe("email", "tong-hop@example.vn", frequency="daily")  # got it in a digest, not a delivery
    article_id = publish()
    original = recipients_of(announce(article_id, EventType.ARTICLE_PUBLISHED))
    assert set(original) == {webhook, mail, left, failed, still_sending}
    assert digest not in original
    for subscription_id in (webhook, mail, left):
        mark(original, subscription_id, DeliveryStatus.DELIVERED)
    mark(original, failed, DeliveryStatus.FAILED)
    with session_scope() as session:
        session.execute(update(Subscription).where(Subscription.id == left).values(status="disabled"))
    later = subscribe("webhook", "https://9.9.9.9/hook")  # subscribed after publication

    with session_scope() as session:
        assert original_recipients(session, article_id) == (webhook, mail)
        publish_correction(session, article_id, FIX, NOW + timedelta(hours=1), get_settings(), EDITOR)
    corrected = recipients_of(announce(article_id, EventType.ARTICLE_CORRECTED))

    assert set(corrected) == {webhook, mail}
    assert later not in corrected
    with session_scope() as session:
        payload = session.scalars(select(Announcement.payload).where(Announcement.type == "article.corrected")).one()
    assert payload["correction"]["wrong"] == FIX.wrong
    assert payload["correction"]["apology"] is True
    assert payload["article"]["id"] == article_id


def test_an_article_nobody_received_has_no_recipients_and_plans_no_delivery() -> None:
    subscribe("webhook", "https://8.8.8.8/hook")
    article_id = publish()
    with session_scope() as session:
        assert original_recipients(session, article_id) == ()  # planned, never delivered
        publish_correction(session, article_id, FIX, NOW, get_settings(), EDITOR)
    assert announce(article_id, EventType.ARTICLE_CORRECTED) == []


def test_recipients_of_another_article_are_not_taken() -> None:
    webhook = subscribe("webhook", "https://8.8.8.8/hook")
    first, second = publish("Bài một"), publish("Bài hai")
    delivered = recipients_of(announce(first, EventType.ARTICLE_PUBLISHED))
    mark(delivered, webhook, DeliveryStatus.DELIVERED)
    announce(second, EventType.ARTICLE_PUBLISHED)  # pending, not delivered
    with session_scope() as session:
        assert original_recipients(session, first) == (webhook,)
        assert original_recipients(session, second) == ()


def stored() -> tuple[int, int, int]:
    with session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(ArticleCorrection)) or 0,
            session.scalar(select(func.count()).where(OutboxEvent.type == "article.corrected")) or 0,
            session.scalar(select(func.count()).where(AuditEvent.action == "article.correct")) or 0,
        )


def test_publishing_one_writes_the_row_the_audit_entry_and_the_event_together() -> None:
    article_id = publish()
    with session_scope() as session:
        row = publish_correction(session, article_id, FIX, NOW, get_settings(), EDITOR)
        assert row.published_by == "user:bien-tap"
        assert row.revision_id is not None  # the text it corrects stays in the revision history
    assert stored() == (1, 1, 1)


def test_a_writer_may_not_publish_a_correction_and_nothing_is_stored() -> None:
    article_id = publish()
    with pytest.raises(NotPermitted) as refused, session_scope() as session:
        publish_correction(session, article_id, FIX, NOW, get_settings(), WRITER)
    assert "biên tập viên" in refused.value.message
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize("state", ["draft", "withdrawn"])
def test_only_a_published_article_is_corrected(state: str) -> None:
    if state == "draft":
        data = ArticleCreate(title="Bản nháp", body_html="<p>Nháp.</p>", status="draft")
        with session_scope() as session:
            article_id = create_article(session, data, NOW, get_settings(), OPERATOR).article.id
    else:
        article_id = publish()
        with session_scope() as session:
            withdraw_article(session, article_id, NOW, get_settings(), OPERATOR)
    with pytest.raises(WrongState) as refused, session_scope() as session:
        publish_correction(session, article_id, FIX, NOW, get_settings(), EDITOR)
    assert "bài đang đăng" in refused.value.message
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"wrong": "", "right": "Đúng"}, "wrong", "empty"),
        ({"wrong": "Sai", "right": " \u200b\n "}, "right", "empty"),
        ({"wrong": "x" * (MAX_CORRECTION_CHARS + 1), "right": "Đúng"}, "wrong", "too_long"),
    ],
)
def test_bad_fields_are_refused_by_name(fields: dict[str, str], field: str, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CorrectionIn.model_validate(fields)
    error = refused.value.errors()[0]
    assert error["loc"] == (field,)
    assert (error.get("ctx") or {}).get("code", error["type"]) == code


def test_a_field_left_out_is_refused_once_the_article_is_found() -> None:
    article_id = publish()
    with pytest.raises(InvalidField) as refused, session_scope() as session:
        publish_correction(session, article_id, CorrectionIn(wrong="Sai"), NOW, get_settings(), EDITOR)
    assert (refused.value.field, refused.value.code) == ("right", "empty")
    assert stored() == (0, 0, 0)


def test_text_is_cleaned_and_keeps_its_lines() -> None:
    parsed = CorrectionIn(wrong="  Ngày 3/2/1930\u200b\nở Hồng Kông ", right="Ngày 3/2/1930")
    assert parsed.wrong == "Ngày 3/2/1930\nở Hồng Kông"
    assert parsed.apology is False


def test_a_withdrawal_keeps_its_reason_and_refuses_an_over_long_one() -> None:
    article_id = publish()
    with pytest.raises(InvalidField) as refused, session_scope() as session:
        withdraw_article(session, article_id, NOW, get_settings(), OPERATOR, "x" * 1001)
    assert (refused.value.field, refused.value.code) == ("reason", "too_long")
    with session_scope() as session:
        change = withdraw_article(
            session, article_id, NOW, get_settings(), OPERATOR, "  Thông tin chưa được kiểm chứng. "
        )
        assert change.article.withdrawal_reason == "Thông tin chưa được kiểm chứng."


def test_a_correction_to_many_is_planned_in_chunks_each_recipient_once() -> None:
    readers = [subscribe("webhook", f"https://8.8.{n}.8/hook") for n in range(7)]
    article_id = publish()
    original = recipients_of(announce(article_id, EventType.ARTICLE_PUBLISHED))
    for subscription_id in readers:
        mark(original, subscription_id, DeliveryStatus.DELIVERED)
    with session_scope() as session:
        publish_correction(session, article_id, FIX, NOW + timedelta(hours=1), get_settings(), EDITOR)
        event_id = session.scalars(
            select(OutboxEvent.id).where(OutboxEvent.type == EventType.ARTICLE_CORRECTED.value)
        ).one()
    # Three transactions of at most 3, as a planner stopped between chunks is continued.
    sizes = []
    for _ in range(3):
        with session_scope() as session:
            chunk = plan_event_chunk(session, event_id, NOW, get_settings(), 3)
            sizes.append((chunk.planned, chunk.done))
    assert sizes == [(3, False), (3, False), (1, True)]
    with session_scope() as session:
        planned = session.scalars(
            select(Delivery.subscription_id)
            .join(Announcement, Announcement.id == Delivery.announcement_id)
            .where(Announcement.type == "article.corrected")
        ).all()
        assert sorted(planned) == readers
        assert session.get(OutboxEvent, event_id).announced_at is not None  # type: ignore[union-attr]
        assert plan_event_chunk(session, event_id, NOW, get_settings(), 3) == Chunk(0, done=True)
