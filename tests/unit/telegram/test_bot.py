"""Command handling on the embedded database: what each update changes and answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import Category, ConsentEvent, Delivery, Subscription, Suppression, TelegramUpdate
from service.deliveries.planning import plan_announcement
from service.readers.signup import suppression_hash
from service.telegram.bot import UPDATES_KEPT, Handled, Reply, handle_update, purge_updates
from service.telegram.updates import parse_update

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)
CHAT = 424242
_ids = iter(range(1, 10_000))


def handle(kind: str, body: dict[str, Any], bot_username: str | None = None, update_id: int | None = None) -> Handled:
    update = parse_update({"update_id": update_id or next(_ids), kind: body})
    with session_scope() as session:
        return handle_update(session, update, NOW, get_settings(), bot_username)


def say(text: str, chat_id: int = CHAT, language: str = "vi", chat_type: str = "private") -> Handled:
    sender = {"id": 5, "is_bot": False, "first_name": "Lan", "language_code": language}
    message = {"message_id": 1, "from": sender, "chat": {"id": chat_id, "type": chat_type}, "text": text}
    return handle("message", message, bot_username="BantinBot")


def tap(data: str, chat_id: int = CHAT, language: str = "vi") -> Handled:
    message = {"message_id": 2, "chat": {"id": chat_id, "type": "private"}}
    sender = {"id": 5, "is_bot": False, "first_name": "Lan", "language_code": language}
    return handle("callback_query", {"id": "q1", "from": sender, "message": message, "data": data})


def categories() -> dict[str, int]:
    with session_scope() as session:
        for name, slug in (("Thể thao", "the-thao"), ("Đời sống", "doi-song")):
            # Listed by an admin: public, so the keyboard offers them (service/articles/categories.py).
            session.add(Category(name=name, slug=slug, created_at=NOW, listed=True))
        session.flush()
        return {slug: id_ for id_, slug in session.execute(select(Category.id, Category.slug))}


def chat_subscription(chat_id: int = CHAT) -> Subscription | None:
    with session_scope() as session:
        found = session.scalars(select(Subscription).where(Subscription.target == str(chat_id))).one_or_none()
        if found is not None:
            session.expunge(found)
        return found


def consents() -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        rows = session.execute(select(ConsentEvent.action, ConsentEvent.method, ConsentEvent.text_version))
        return [(action, method, version) for action, method, version in rows]


def texts(handled: Handled) -> list[str]:
    return [r.parameters["text"] for r in handled.replies if r.method == "sendMessage"]


def test_start_in_vietnamese_and_in_english() -> None:
    [vi] = texts(say("/start"))
    assert vi.startswith("Xin chào! Đây là bot bản tin của Thành ủy Đà Nẵng.") and "/stop" in vi
    [en] = texts(say("/start", language="en"))
    assert en.startswith("Hello! This is Thành ủy Đà Nẵng's news bot.")


def test_subscribe_offers_every_category_and_the_consent_text() -> None:
    ids = categories()
    [reply] = say("/subscribe").replies
    assert reply == Reply("sendMessage", reply.parameters, CHAT)
    assert "Nghị định 13/2023/NĐ-CP" in reply.parameters["text"]
    keyboard = reply.parameters["reply_markup"]["inline_keyboard"]
    assert keyboard == [
        [{"text": "Tất cả chuyên mục", "callback_data": "sub:all"}],
        [
            {"text": "Thể thao", "callback_data": f"sub:{ids['the-thao']}"},
            {"text": "Đời sống", "callback_data": f"sub:{ids['doi-song']}"},
        ],
    ]
    assert chat_subscription() is None  # offering subscribes nobody


def test_choosing_categories_subscribes_then_adds_with_consent_given_then_changed() -> None:
    ids = categories()
    handled = tap(f"sub:{ids['the-thao']}")
    answer, confirmation = handled.replies
    assert answer == Reply("answerCallbackQuery", {"callback_query_id": "q1", "text": "Đã thêm: Thể thao"})
    assert confirmation.parameters["text"].startswith("Đã đăng ký. Cuộc trò chuyện này sẽ nhận tin của: Thể thao.")
    tap(f"sub:{ids['doi-song']}")
    tap(f"sub:{ids['doi-song']}")  # the same again: nothing changes, nothing recorded
    subscription = chat_subscription()
    assert subscription is not None and subscription.channel == "telegram" and subscription.status == "active"
    assert subscription.categories == ["the-thao", "doi-song"]
    assert consents() == [("given", "bot", "2026-11-29-telegram"), ("changed", "bot", "2026-11-29-telegram")]
    assert texts(say("/list")) == ["Cuộc trò chuyện này đang nhận tin của: Thể thao, Đời sống."]
    tap("sub:all", language="en")
    subscription = chat_subscription()
    assert subscription is not None and subscription.categories == [] and subscription.locale == "en"
    assert texts(say("/list", language="en")) == ["This chat gets the news of: all categories."]


def test_a_stale_or_forged_choice_changes_nothing() -> None:
    for data in ("sub:999", "sub:", "sub:-1", "xyz", "", "sub:" + "9" * 30, "sub:١٢", "sub:1 ", "sub:all2"):
        [answer] = tap(data).replies
        assert answer.method == "answerCallbackQuery" and "không còn hợp lệ" in answer.parameters["text"]
    assert chat_subscription() is None


def test_stop_ends_the_subscription_its_pending_deliveries_and_consent() -> None:
    categories()
    tap("sub:all")
    subscription = chat_subscription()
    assert subscription is not None
    with session_scope() as session:
        plan_announcement(session, source_key="event:1", event_type="article.published",
                          payload={"article": {"title": "T"}}, now=NOW, settings=get_settings())  # fmt: skip
    assert texts(say("/stop")) == ["Đã ngừng gửi tin tới cuộc trò chuyện này. Gửi /subscribe để đăng ký lại."]
    ended = chat_subscription()
    assert ended is not None and ended.status == "disabled" and ended.status_reason == "stopped by the reader (/stop)"
    with session_scope() as session:
        assert session.scalars(select(Delivery.status)).all() == ["failed"]
    assert consents()[-1][:2] == ("withdrawn", "bot")
    assert texts(say("/stop")) == ["Cuộc trò chuyện này chưa đăng ký nhận tin. Gửi /subscribe để bắt đầu."]
    assert texts(say("/list")) == ["Cuộc trò chuyện này chưa đăng ký nhận tin. Gửi /subscribe để bắt đầu."]
    tap("sub:all")  # back again: the same subscription, active, consent given anew
    again = chat_subscription()
    assert again is not None and again.id == subscription.id and again.status == "active"
    assert consents()[-1][:2] == ("given", "bot")


def test_subscribing_in_person_lifts_a_forget_me() -> None:
    with session_scope() as session:
        session.add(
            Suppression(target_hash=suppression_hash("telegram", str(CHAT)), reason="forgotten", created_at=NOW)
        )
    tap("sub:all")
    with session_scope() as session:
        assert session.scalars(select(Suppression)).all() == []


def test_an_update_is_handled_once_and_every_kind_is_recorded() -> None:
    first = handle("message", {"message_id": 1, "chat": {"id": CHAT, "type": "private"}, "text": "/stop"}, None, 77)
    again = handle("message", {"message_id": 1, "chat": {"id": CHAT, "type": "private"}, "text": "/stop"}, None, 77)
    assert not first.duplicate and len(first.replies) == 1
    assert again.duplicate and again.replies == []
    ignored = handle("poll", {"id": "1"}, None, 78)
    assert ignored.kind == "poll" and ignored.replies == [] and not ignored.duplicate
    with session_scope() as session:
        assert dict(session.execute(select(TelegramUpdate.update_id, TelegramUpdate.kind)).tuples().all()) == {
            77: "message",
            78: "poll",
        }


def test_groups_hear_only_commands_and_commands_for_other_bots_are_left_alone() -> None:
    assert say("xin chào", chat_id=-55, chat_type="group").replies == []
    assert texts(say("xin chào"))[0].startswith("Xin chào!")  # a private chat gets help
    assert say("/start@OtherBot", chat_id=-55, chat_type="group").replies == []
    assert texts(say("/start@bantinbot", chat_id=-55, chat_type="group"))[0].startswith("Xin chào!")


def test_a_group_upgraded_to_a_supergroup_keeps_its_subscription() -> None:
    tap("sub:all", chat_id=-55)
    handle("message", {"message_id": 3, "chat": {"id": -55, "type": "group"}, "migrate_to_chat_id": -100555})
    assert chat_subscription(-55) is None
    moved = chat_subscription(-100555)
    assert moved is not None and moved.status == "active"
    # The new supergroup's first message names the old id: already moved, nothing more.
    handle("message", {"message_id": 1, "chat": {"id": -100555, "type": "supergroup"}, "migrate_from_chat_id": -55})
    assert chat_subscription(-100555) is not None


def test_the_bot_blocked_or_removed_ends_the_subscription() -> None:
    tap("sub:all")
    member = {
        "chat": {"id": CHAT, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "Lan"},
        "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True, "first_name": "Bot"}},
    }
    handle("my_chat_member", member)
    ended = chat_subscription()
    assert ended is not None and ended.status == "disabled"
    assert ended.status_reason == "the bot was blocked by the user"
    assert consents()[-1] == ("withdrawn", "bot", None)  # blocking the bot is the reader's act


def test_update_ids_are_kept_a_week() -> None:
    with session_scope() as session:
        session.add(TelegramUpdate(update_id=1, kind="message", received_at=NOW - UPDATES_KEPT - timedelta(seconds=1)))
        session.add(TelegramUpdate(update_id=2, kind="message", received_at=NOW - UPDATES_KEPT + timedelta(seconds=1)))
    with session_scope() as session:
        assert purge_updates(session, NOW) == 1
    with session_scope() as session:
        assert session.scalars(select(TelegramUpdate.update_id)).all() == [2]
