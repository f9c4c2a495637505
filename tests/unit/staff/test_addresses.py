"""Where staff are told (decision 0042): the e-mail, and a Telegram chat linked by ``/start
<code>`` — one-time, expiring, stored only as a hash — and never confused with a reader's chat."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from config.settings import get_settings
from service.auth.users import create_user
from service.db.engine import session_scope
from service.db.models import StaffLinkCode, Subscription, User
from service.errors import InvalidField
from service.staff.addresses import (
    LINK_CODE_MINUTES,
    addresses_of,
    new_link_code,
    redeem_link_code,
    set_email,
    subscriptions_of,
    unlink_telegram,
)
from service.telegram.bot import handle_update
from service.telegram.updates import parse_update

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)
CHAT = 515151


@pytest.fixture
def user_id() -> int:
    with session_scope() as session:
        user = create_user(session, "lanhdao", "mật khẩu đủ dài 2026", "editor", NOW, "Chị Lãnh Đạo")
        session.flush()
        return user.id


def start(text: str, chat_id: int = CHAT, update_id: int = 1, when: datetime = NOW) -> list[str]:
    sender = {"id": 5, "is_bot": False, "first_name": "Lan", "language_code": "vi"}
    body: dict[str, Any] = {"message_id": 1, "from": sender, "chat": {"id": chat_id, "type": "private"}, "text": text}
    with session_scope() as session:
        handled = handle_update(session, parse_update({"update_id": update_id, "message": body}), when, get_settings())
    return [r.parameters["text"] for r in handled.replies]


def test_a_code_links_the_chat_once_and_only_its_hash_is_kept(user_id: int) -> None:
    with session_scope() as session:
        code = new_link_code(session, user_id, NOW)
        stored = session.scalars(select(StaffLinkCode.code_hash)).one()
    assert len(code) == 13 and stored == hashlib.sha256(code.encode()).hexdigest() and code not in stored
    linked = start(f"/start {code}")[0]
    assert "Đã liên kết" in linked and "Chị Lãnh Đạo" in linked
    with session_scope() as session:
        assert addresses_of(session, user_id).telegram_chat == str(CHAT)
        assert len(subscriptions_of(session, [user_id])) == 1
    # Used up: another chat sending it links nothing.
    assert "đã hết hạn" in start(f"/start {code}", chat_id=616161, update_id=2)[0]
    with session_scope() as session:
        assert addresses_of(session, user_id).telegram_chat == str(CHAT)


def test_an_expired_or_replaced_code_links_nothing(user_id: int) -> None:
    with session_scope() as session:
        first = new_link_code(session, user_id, NOW)
        second = new_link_code(session, user_id, NOW)  # the first stops working
        assert redeem_link_code(session, first, CHAT, NOW) is None
        later = NOW + timedelta(minutes=LINK_CODE_MINUTES, seconds=1)
        assert redeem_link_code(session, second, CHAT, later) is None
        assert redeem_link_code(session, "", CHAT, NOW) is None
        assert redeem_link_code(session, "A" * 500, CHAT, NOW) is None
        assert addresses_of(session, user_id).telegram_chat is None


def test_a_linked_chat_is_not_a_readers_subscription(user_id: int) -> None:
    with session_scope() as session:
        code = new_link_code(session, user_id, NOW)
    start(f"/start {code}")
    # /list in the same chat: the staff address is not the chat's reading.
    assert "chưa đăng ký" in start("/list", update_id=3)[0]
    with session_scope() as session:
        unlink_telegram(session, user_id, NOW)
        assert addresses_of(session, user_id).telegram_chat is None and subscriptions_of(session, [user_id]) == []
        # Kept (disabled) so that its deliveries stay in the log.
        assert session.scalars(select(Subscription.status).where(Subscription.target == str(CHAT))).one() == "disabled"


def test_the_email_is_normalised_replaced_and_removed(user_id: int) -> None:
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert set_email(session, user, "  LanhDao@ToaSoan.example.vn ", NOW) == "LanhDao@toasoan.example.vn"
        set_email(session, user, "lanhdao2@toasoan.example.vn", NOW)
        assert addresses_of(session, user_id).email == "lanhdao2@toasoan.example.vn"
        assert len(subscriptions_of(session, [user_id])) == 1  # the same subscription, pointed elsewhere
        with pytest.raises(InvalidField):
            set_email(session, user, "không phải địa chỉ", NOW)
        set_email(session, user, "", NOW)
        assert addresses_of(session, user_id).email is None and user.email is None
