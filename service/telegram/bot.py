"""One update, handled once: its id recorded with what it changed, replies sent after commit.

Replies to a command are direct Bot API calls, not delivery rows (ARCHITECTURE.md
decision 12): they answer the person who just wrote and are worth
nothing later. Announcements to the chat still go through delivery rows.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.categories import public_categories, public_category
from service.db.engine import UnitOfWork
from service.db.models import SubscriptionStatus, TelegramUpdate
from service.db.statements import insert_ignoring_duplicates
from service.db.types import utcnow
from service.readers.consent import TELEGRAM_VERSION, consent_text
from service.staff.addresses import redeem_link_code
from service.telegram import chats
from service.telegram.bot_api import BotApi, BotApiError
from service.telegram.updates import CallbackQuery, ChatMemberUpdated, Message, Update, command_of
from service.telegram.words import locale_of, say

log = logging.getLogger(__name__)
# The inline keyboard: "all" and one button per category, two to a row, at most this many.
MAX_CATEGORY_BUTTONS = 60
CALLBACK_ALL = "sub:all"
CALLBACK_PREFIX = "sub:"
# Our own buttons' data: ASCII digits that fit a BIGINT id (a forged value must not reach the query).
CALLBACK_CATEGORY = re.compile(r"^sub:([0-9]{1,18})$")
# my_chat_member statuses meaning the bot can no longer write to the chat.
GONE_STATUSES = frozenset({"kicked", "left"})


@dataclass(frozen=True)
class Reply:
    """One Bot API call answering an update; ``chat_id`` is the chat it writes to, if any."""

    method: str
    parameters: dict[str, Any]
    chat_id: int | None = None


@dataclass
class Handled:
    """What handling an update did: ``duplicate`` when its id was seen before (nothing done)."""

    kind: str
    duplicate: bool = False
    replies: list[Reply] = field(default_factory=list)


def record_update(session: Session, update: Update, now: datetime) -> bool:
    """Record the update's id; False when it was recorded before (a redelivery). Runs in
    the transaction that applies the update, so a rollback leaves it to be handled again."""
    statement = (
        insert_ignoring_duplicates(session, TelegramUpdate)
        .values(update_id=update.update_id, kind=update.kind, received_at=now)
        .returning(TelegramUpdate.update_id)
    )
    # A conflict inserts nothing and so returns no row.
    return session.execute(statement).first() is not None


# Telegram keeps an update it could not hand over for at most 24 hours (getUpdates), so no
# redelivery comes later than that; a week's margin. After a week without updates the next
# update_id is chosen at random (Bot API, Update): an old id kept forever could swallow it.
UPDATES_KEPT = timedelta(days=7)
PURGE_LIMIT = 10_000


def purge_updates(session: Session, now: datetime, limit: int = PURGE_LIMIT) -> int:
    """Delete up to ``limit`` update ids recorded more than ``UPDATES_KEPT`` ago; returns how many."""
    old = select(TelegramUpdate.update_id).where(TelegramUpdate.received_at < now - UPDATES_KEPT).limit(limit)
    ids = list(session.scalars(old))
    if ids:
        session.execute(delete(TelegramUpdate).where(TelegramUpdate.update_id.in_(ids)))
    return len(ids)


def handle_update(session: Session, update: Update, now: datetime, settings: Settings,
                  bot_username: str | None = None) -> Handled:  # fmt: skip
    """Apply one update in ``session`` (the caller commits) and return the replies to send
    after the commit. A redelivered update does nothing; a kind the bot does not handle is
    recorded and ignored. ``bot_username`` (getMe) lets "/cmd@OtherBot" be left alone."""
    handled = Handled(update.kind)
    if not record_update(session, update, now):
        handled.duplicate = True
        return handled
    if update.message is not None:
        handled.replies = _message(session, update.message, now, settings, bot_username)
    elif update.callback_query is not None:
        handled.replies = _callback(session, update.callback_query, update.update_id, now, settings)
    elif update.my_chat_member is not None:
        _member(session, update.my_chat_member, update.update_id, now)
    return handled


def _send(chat_id: int, text: str, markup: dict[str, Any] | None = None) -> Reply:
    parameters: dict[str, Any] = {"chat_id": chat_id, "text": text, "link_preview_options": {"is_disabled": True}}
    if markup is not None:
        parameters["reply_markup"] = markup
    return Reply("sendMessage", parameters, chat_id)


def _message(session: Session, message: Message, now: datetime, settings: Settings,
             bot_username: str | None) -> list[Reply]:  # fmt: skip
    chat_id = message.chat.id
    if message.migrate_to_chat_id is not None:  # the old group's last word
        chats.migrate(session, chat_id, message.migrate_to_chat_id, now)
        return []
    if message.migrate_from_chat_id is not None:  # the new supergroup's first word
        chats.migrate(session, message.migrate_from_chat_id, chat_id, now)
        return []
    locale = locale_of(message.sender.language_code if message.sender else None)
    command = command_of(message.text, bot_username)
    if command is None:
        # In a group the bot hears only commands (privacy mode); a private chat gets help.
        private = message.chat.type == "private"
        return [_send(chat_id, say(locale, "start", site=settings.site_title))] if private else []
    name = command[0]
    if name == "start" and command[1]:
        # "/start <code>": a staff member links this chat to their console account (decision 0042).
        staff = redeem_link_code(session, command[1], chat_id, now)
        if staff is None:
            return [_send(chat_id, say(locale, "link_failed"))]
        return [_send(chat_id, say(locale, "linked", name=staff.display_name, site=settings.site_title))]
    if name == "subscribe":
        return [_send(chat_id, _choose_text(locale, settings), _keyboard(session, locale))]
    if name == "list":
        subscription = chats.find_chat(session, chat_id)
        if subscription is None or subscription.status != SubscriptionStatus.ACTIVE:
            return [_send(chat_id, say(locale, "not_subscribed"))]
        return [_send(chat_id, say(locale, "following", categories=_listed(session, subscription.categories, locale)))]
    if name == "stop":
        ended = chats.end(session, chat_id, "stopped by the reader (/stop)", now, {"chat_type": message.chat.type})
        return [_send(chat_id, say(locale, "stopped" if ended else "not_subscribed"))]
    return [_send(chat_id, say(locale, "start", site=settings.site_title))]  # /start, /help, anything else


def _choose_text(locale: str, settings: Settings) -> str:
    return say(locale, "choose") + "\n\n" + consent_text(locale, settings.site_title, TELEGRAM_VERSION)


def _keyboard(session: Session, locale: str) -> dict[str, Any]:
    """InlineKeyboardMarkup: "all categories", then the categories by name (callback_data ≤ 64 bytes)."""
    categories = public_categories(session, limit=MAX_CATEGORY_BUTTONS)
    buttons = [{"text": c.name[:64], "callback_data": f"{CALLBACK_PREFIX}{c.id}"} for c in categories]
    rows = [[{"text": say(locale, "all"), "callback_data": CALLBACK_ALL}]]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return {"inline_keyboard": rows}


def _listed(session: Session, slugs: list[str], locale: str) -> str:
    return ", ".join(chats.category_names(session, slugs)) if slugs else say(locale, "all").lower()


def _callback(session: Session, query: CallbackQuery, update_id: int, now: datetime,
              settings: Settings) -> list[Reply]:  # fmt: skip
    locale = locale_of(query.sender.language_code)
    data = query.data or ""
    category: tuple[str, str] | None = None
    chosen_id = CALLBACK_CATEGORY.match(data)
    if chosen_id:
        # Only a public category: callback data is whatever the client sends, not only our buttons.
        found = public_category(session, category_id=int(chosen_id.group(1)))
        category = (found.slug, found.name) if found else None
    valid = data == CALLBACK_ALL or category is not None
    if not valid or query.message is None:
        # A button of a deleted category, or of a message too old to say which chat it was in.
        return [Reply("answerCallbackQuery", {"callback_query_id": query.id, "text": say(locale, "stale_choice")})]
    chat_id = query.message.chat.id
    detail: dict[str, object] = {"update_id": update_id, "chat_type": query.message.chat.type}
    subscription = chats.follow(session, chat_id, category[0] if category else None, locale, now, detail)
    chosen = category[1] if category else say(locale, "all")
    listed = _listed(session, subscription.categories, locale)
    answer = say(locale, "added", category=chosen)[:200]  # answerCallbackQuery's text: 0-200 characters
    return [
        Reply("answerCallbackQuery", {"callback_query_id": query.id, "text": answer}),
        _send(chat_id, say(locale, "subscribed", categories=listed)),
    ]


def _member(session: Session, change: ChatMemberUpdated, update_id: int, now: datetime) -> None:
    """The bot's own membership changed: blocked in a private chat, removed from a group."""
    status = change.new_chat_member.status
    if status in GONE_STATUSES:
        private = change.chat.type == "private"
        reason = "the bot was blocked by the user" if private else f"the bot was {status} the group"
        chats.end(session, change.chat.id, reason, now, {"update_id": update_id, "chat_type": change.chat.type})


def send_replies(api: BotApi, replies: list[Reply], unit_of_work: UnitOfWork) -> None:
    """Send each reply; never raises. A chat that blocked the bot or is gone has its
    subscription ended; a group that became a supergroup keeps it under the new id and
    gets the reply there; other failures are logged (the reader can ask again)."""
    for reply in replies:
        try:
            api.call(reply.method, reply.parameters)
        except BotApiError as exc:
            _reply_failed(api, reply, exc, unit_of_work)


def _reply_failed(api: BotApi, reply: Reply, exc: BotApiError, unit_of_work: UnitOfWork) -> None:
    chat_id = reply.chat_id
    if chat_id is not None and exc.chat_gone:
        with unit_of_work() as session:
            chats.end(session, chat_id, f"Telegram {exc.error_code}: {exc.description}", utcnow(), None)
        return
    if chat_id is not None and exc.migrate_to_chat_id is not None:
        with unit_of_work() as session:
            chats.migrate(session, chat_id, exc.migrate_to_chat_id, utcnow())
        moved = Reply(reply.method, {**reply.parameters, "chat_id": exc.migrate_to_chat_id}, exc.migrate_to_chat_id)
        try:
            api.call(moved.method, moved.parameters)
        except BotApiError as again:
            log.warning("telegram reply failed: %s", again)
        return
    log.warning("telegram reply failed: %s", exc)


_usernames: dict[str, str] = {}


def needs_username(update: Update) -> bool:
    """Whether the update is a command addressed to a bot by name ("/start@DeskBot")."""
    text = update.message.text if update.message is not None else None
    return bool(text and text.startswith("/") and "@" in text.split(" ", 1)[0])


def bot_username(api: BotApi) -> str | None:
    """The bot's username (getMe), asked once per process and token; None when getMe fails."""
    token = api.settings.telegram_bot_token.get_secret_value()
    if token not in _usernames:
        try:
            me = api.call("getMe")
        except BotApiError as exc:
            log.warning("telegram getMe failed: %s", exc)
            return None
        _usernames[token] = str((me or {}).get("username") or "")
    return _usernames[token] or None


def process_update(update: Update, settings: Settings, api: BotApi, unit_of_work: UnitOfWork,
                   bot_username: str | None = None) -> Handled:  # fmt: skip
    """Handle ``update`` in its own transaction, then send its replies: what the webhook
    and the long-polling loop both do with each update."""
    with unit_of_work() as session:
        handled = handle_update(session, update, utcnow(), settings, bot_username)
    if handled.duplicate:
        log.info("telegram update %s seen before: ignored", update.update_id)
    send_replies(api, handled.replies, unit_of_work)
    return handled
