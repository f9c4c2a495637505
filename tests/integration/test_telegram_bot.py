"""The readers' Telegram bot, end to end: the real API, worker and beat on PostgreSQL and
a Redis of their own, talking to a local Bot API (``telegram_api.py``).

/subscribe through the webhook → inline keyboard → a category chosen → an article in it
is published → its announcement reaches that chat; a redelivered update is handled once;
a wrong secret is refused; a blocked bot ends the subscription; a group that became a
supergroup keeps it; long polling picks updates up when no webhook is set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.integration.announce import publish
from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.stack import PrivateRedis, Stack, wait_until
from tests.integration.telegram_api import BLOCKED, BotApiServer, callback_update, message_update

SECRET = "webhook-secret_0123456789"


@dataclass
class Desk:
    stack: Stack
    bot: BotApiServer
    publisher: httpx.Client
    db: Engine

    def deliver(self, update: dict[str, Any]) -> httpx.Response:
        response = self.bot.deliver(update)
        assert response.status_code == 200, response.text
        return response

    def subscription(self, chat_id: int) -> dict[str, Any] | None:
        with self.db.connect() as connection:
            row = connection.execute(
                text("SELECT * FROM subscriptions WHERE channel = 'telegram' AND target = :t"), {"t": str(chat_id)}
            ).first()
        return dict(row._mapping) if row is not None else None

    def scalar(self, sql: str, **values: Any) -> Any:
        with self.db.connect() as connection:
            return connection.execute(text(sql), values).scalar()

    def keyboard_choice(self, chat_id: int, label: str) -> str:
        """The callback_data of the button ``label`` in the last keyboard sent to the chat."""
        keyboards = [m["reply_markup"] for m in self.bot.messages_to(chat_id) if "reply_markup" in m]
        assert keyboards, self.bot.messages_to(chat_id)
        buttons = [b for row in keyboards[-1]["inline_keyboard"] for b in row]
        return str(next(b["callback_data"] for b in buttons if b["text"] == label))

    def subscribe(self, chat_id: int, label: str) -> None:
        """/subscribe, then the button ``label``, as a reader does."""
        self.deliver(message_update(self.bot.next_update_id(), chat_id, "/subscribe"))
        choice = self.keyboard_choice(chat_id, label)
        self.deliver(callback_update(self.bot.next_update_id(), chat_id, choice))
        wait_until(lambda: (self.subscription(chat_id) or {}).get("status") == "active", 10, "the subscription")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    name = f"bantin_it_telegram_{uuid.uuid4().hex[:8]}"
    bot = BotApiServer()
    bot.start()
    # A Redis of its own: this stack's workers must not take another stack's messages.
    broker = PrivateRedis()
    broker.start()
    database = create_database(name)
    stack = Stack(
        database,
        broker.url,
        tmp_path_factory.mktemp("telegram"),
        **ANNOUNCEMENT_TEST_SETTINGS,
        **bot.env(),
        BANTIN_TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    engine = create_engine(database)
    try:
        with stack.running():
            token = stack.create_token("publish")
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=stack.base_url, headers=headers, timeout=10) as publisher:
                registered = stack.run("telegram", "set-webhook")
                assert registered.returncode == 0, registered.stderr
                yield Desk(stack, bot, publisher, engine)
    finally:
        engine.dispose()
        broker.kill()
        bot.stop()
        drop_database(name)


def test_set_webhook_registers_our_url_secret_and_update_kinds(desk: Desk) -> None:
    assert desk.bot.webhook["url"] == f"{desk.stack.base_url}/telegram/webhook"
    assert desk.bot.webhook["secret_token"] == SECRET
    assert desk.bot.webhook["allowed_updates"] == ["message", "callback_query", "my_chat_member"]


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(desk: Desk) -> None:
    update_id = desk.bot.next_update_id()
    update = message_update(update_id, 910_001, "/subscribe")
    for secret in ("wrong-secret", SECRET[:-1], ""):
        response = desk.bot.deliver(update, secret=secret)
        assert response.status_code == 401, response.text
        assert "X-Telegram-Bot-Api-Secret-Token" in response.json()["detail"]
    response = httpx.post(f"{desk.stack.base_url}/telegram/webhook", json=update, timeout=10)
    assert response.status_code == 401
    assert desk.scalar("SELECT count(*) FROM telegram_updates WHERE update_id = :u", u=update_id) == 0
    assert desk.bot.messages_to(910_001) == []


def test_a_body_that_is_not_an_update_is_400_naming_the_field(desk: Desk) -> None:
    url = f"{desk.stack.base_url}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    cases = {
        b"{not json": "body: is not valid JSON",
        b"[1, 2]": "body: must be a JSON object",
        b'{"message": {"chat": {"id": 1, "type": "private"}, "message_id": 1}}': "update_id: Field required",
        b'{"update_id": 5, "message": {"message_id": 1, "chat": {"type": "group"}}}': "message.chat.id: Field required",
        b'{"update_id": 5, "callback_query": {"id": "x", "from": {"id": "abc"}}}': "callback_query.from.id",
        b'{"update_id": -1, "message": {}}': "update_id: Input should be greater than or equal to 0",
    }
    for body, expected in cases.items():
        response = httpx.post(url, content=body, headers=headers, timeout=10)
        assert response.status_code == 400, (body, response.text)
        named = "; ".join(f"{item['field']}: {item['message']}" for item in response.json()["detail"])
        assert expected in named, (body, response.json())
    assert desk.scalar("SELECT count(*) FROM telegram_updates WHERE update_id = 5") == 0


def test_subscribe_through_the_webhook_then_an_article_reaches_the_chat(desk: Desk) -> None:
    unique = uuid.uuid4().hex[:6]
    chat_id = 910_100
    publish(desk.publisher, f"tt{unique}", title="Bóng đá")  # its category "Tin tt…" exists from now on
    desk.deliver(message_update(desk.bot.next_update_id(), chat_id, "/start", language_code="en-US"))
    [hello] = desk.bot.messages_to(chat_id)
    assert hello["text"].startswith("Hello!") and "/subscribe" in hello["text"]

    desk.deliver(message_update(desk.bot.next_update_id(), chat_id, "/subscribe"))
    keyboard = desk.bot.messages_to(chat_id)[-1]
    assert keyboard["text"].startswith("Chọn chuyên mục") and "Nghị định 13/2023/NĐ-CP" in keyboard["text"]
    labels = [b["text"] for row in keyboard["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[0] == "Tất cả chuyên mục" and f"Tin tt{unique}" in labels

    choice = desk.keyboard_choice(chat_id, f"Tin tt{unique}")
    desk.deliver(callback_update(desk.bot.next_update_id(), chat_id, choice))
    assert any(a["text"] == f"Đã thêm: Tin tt{unique}" for a in desk.bot.got("answerCallbackQuery"))
    assert desk.bot.messages_to(chat_id)[-1]["text"].startswith(
        f"Đã đăng ký. Cuộc trò chuyện này sẽ nhận tin của: Tin tt{unique}"
    )
    subscription = desk.subscription(chat_id)
    assert subscription is not None and subscription["status"] == "active"
    assert subscription["categories"] == [f"tin-tt{unique}"] and subscription["locale"] == "vi"
    consent = desk.scalar(
        "SELECT method || ' ' || action || ' ' || text_version FROM consent_events WHERE subscription_id = :s",
        s=subscription["id"],
    )
    assert consent == "bot given 2026-11-29-telegram"

    desk.deliver(message_update(desk.bot.next_update_id(), chat_id, f"/list@{'BantinTestBot'}"))
    assert desk.bot.messages_to(chat_id)[-1]["text"] == f"Cuộc trò chuyện này đang nhận tin của: Tin tt{unique}."

    sent_before = len(desk.bot.messages_to(chat_id))
    publish(desk.publisher, f"other{unique}", title="Chứng khoán")  # another category: not for this chat
    article = publish(desk.publisher, f"tt{unique}", title="Đội tuyển Việt Nam thắng")

    def announced() -> dict[str, Any] | None:
        return next((m for m in desk.bot.messages_to(chat_id) if m.get("parse_mode") == "HTML"), None)

    message = wait_until(announced, 30, "the announcement in the chat", 0.1)
    assert f"Đội tuyển Việt Nam thắng tt{unique}" in message["text"] and article["title"] in message["text"]
    wait_until(
        lambda: (
            desk.scalar(
                "SELECT count(*) FROM deliveries WHERE subscription_id = :s AND status = 'delivered'",
                s=subscription["id"],
            )
            == 1
        ),
        10,
        "the delivery row",
    )
    assert len(desk.bot.messages_to(chat_id)) == sent_before + 1

    desk.deliver(message_update(desk.bot.next_update_id(), chat_id, "/stop"))
    assert desk.bot.messages_to(chat_id)[-1]["text"].startswith("Đã ngừng gửi tin")
    ended = desk.subscription(chat_id)
    assert ended is not None and ended["status"] == "disabled" and "/stop" in ended["status_reason"]


def test_a_redelivered_update_is_handled_once_and_unknown_kinds_are_recorded(desk: Desk) -> None:
    chat_id = 910_200
    update = message_update(desk.bot.next_update_id(), chat_id, "/subscribe")
    first, again = desk.deliver(update), desk.deliver(update)
    assert first.json() == again.json() == {"ok": True}
    assert len(desk.bot.messages_to(chat_id)) == 1
    assert desk.scalar("SELECT kind FROM telegram_updates WHERE update_id = :u", u=update["update_id"]) == "message"

    edited = {"update_id": desk.bot.next_update_id(), "edited_message": {"message_id": 1, "text": "x"}}
    desk.deliver(edited)
    desk.deliver(edited)
    kinds = desk.scalar("SELECT count(*) FROM telegram_updates WHERE update_id = :u AND kind = 'edited_message'",
                        u=edited["update_id"])  # fmt: skip
    assert kinds == 1


def test_a_chat_that_blocked_the_bot_ends_its_subscription_and_the_log_says_so(desk: Desk) -> None:
    unique = uuid.uuid4().hex[:6]
    chat_id = 910_300
    publish(desk.publisher, f"bl{unique}")
    desk.subscribe(chat_id, f"Tin bl{unique}")
    desk.bot.blocked.add(chat_id)
    publish(desk.publisher, f"bl{unique}", title="Tin nóng")

    def ended() -> dict[str, Any] | None:
        subscription = desk.subscription(chat_id)
        return subscription if subscription and subscription["status"] == "disabled" else None

    subscription = wait_until(ended, 30, "the subscription to end", 0.1)
    assert BLOCKED in subscription["status_reason"]
    last_error = desk.scalar("SELECT last_error FROM deliveries WHERE subscription_id = :s", s=subscription["id"])
    assert last_error == f"Telegram 403: {BLOCKED}"
    assert BLOCKED in desk.stack.logs()

    # A reply to a chat that is gone ends it too: a deleted chat answers "chat not found".
    gone_chat = 910_301
    desk.subscribe(gone_chat, f"Tin bl{unique}")
    desk.bot.missing.add(gone_chat)
    desk.deliver(message_update(desk.bot.next_update_id(), gone_chat, "/list"))
    gone = desk.subscription(gone_chat)
    assert gone is not None and gone["status"] == "disabled" and "chat not found" in gone["status_reason"]


def test_a_group_that_became_a_supergroup_keeps_its_subscription(desk: Desk) -> None:
    unique = uuid.uuid4().hex[:6]
    group, supergroup = -4_001, -1_000_000_004_001
    publish(desk.publisher, f"sg{unique}")
    desk.subscribe(group, f"Tin sg{unique}")
    desk.bot.migrated[group] = supergroup
    publish(desk.publisher, f"sg{unique}", title="Lịch thi đấu")

    def moved() -> dict[str, Any] | None:
        return next((m for m in desk.bot.messages_to(supergroup) if m.get("parse_mode") == "HTML"), None)

    message = wait_until(moved, 30, "the announcement in the supergroup", 0.1)
    assert f"Lịch thi đấu sg{unique}" in message["text"]
    assert desk.subscription(group) is None
    kept = desk.subscription(supergroup)
    assert kept is not None and kept["status"] == "active" and kept["categories"] == [f"tin-sg{unique}"]

    # The service message Telegram sends into the old group moves it as well.
    other, other_super = -4_002, -1_000_000_004_002
    desk.subscribe(other, f"Tin sg{unique}")
    migration = message_update(desk.bot.next_update_id(), other, "")
    migration["message"].pop("text")
    migration["message"]["migrate_to_chat_id"] = other_super
    desk.deliver(migration)
    assert desk.subscription(other) is None
    assert (desk.subscription(other_super) or {}).get("status") == "active"


def test_long_polling_picks_updates_up_when_no_webhook_is_set(desk: Desk) -> None:
    refused = desk.stack.run("telegram", "poll", "--once")
    assert refused.returncode == 1 and "bantin telegram delete-webhook" in refused.stderr
    assert desk.stack.run("telegram", "delete-webhook").returncode == 0
    chat_id = 910_400
    first = message_update(desk.bot.next_update_id(), chat_id, "/subscribe")
    desk.bot.queue(first)
    poller = desk.stack.start("poll", "telegram", "poll", BANTIN_TELEGRAM_POLL_TIMEOUT_SECONDS="1")
    try:
        wait_until(lambda: desk.bot.messages_to(chat_id), 30, "the keyboard, through getUpdates", 0.1)
        choice = desk.keyboard_choice(chat_id, "Tất cả chuyên mục")
        desk.bot.queue(callback_update(desk.bot.next_update_id(), chat_id, choice))
        wait_until(lambda: (desk.subscription(chat_id) or {}).get("status") == "active", 30, "the subscription")
        assert (desk.subscription(chat_id) or {}).get("categories") == []
        # Confirmed updates are not handed out again: the first one was handled once.
        assert len([m for m in desk.bot.messages_to(chat_id) if "reply_markup" in m]) == 1
        assert all(c.get("offset", 0) <= first["update_id"] + 2 for c in desk.bot.got("getUpdates"))
    finally:
        desk.stack.stop("poll")
        assert poller.poll() is not None
        assert desk.stack.run("telegram", "set-webhook").returncode == 0
