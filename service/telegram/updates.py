"""Bot API updates as we read them: only the fields the bot uses, checked on the way in.

Shapes from the Bot API reference (Update, Message, Chat, User, CallbackQuery,
ChatMemberUpdated). Fields we do not use are ignored; an update of a kind the bot does
not handle parses to ``kind`` = its field name and nothing else, so it is recorded and
acknowledged but never acted on.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.errors import validation_items
from service.json_input import JsonRefused, parse_json

# update_id and chat ids: "at most 52 significant bits" (Bot API), so a signed 64-bit
# integer holds them; the bounds keep a forged value from reaching the database.
TelegramId = Annotated[int, Field(ge=-(2**53), le=2**53)]
# Telegram's enumerations (chat types, member statuses, update kinds): lower-case words.
# Checked, not listed, so a kind Telegram adds later still parses; stored values stay clean.
Word = Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]
WORD = re.compile(r"^[a-z_]{1,32}$")
# The kinds the bot acts on; setWebhook and getUpdates ask for these only (allowed_updates).
HANDLED_KINDS = ("message", "callback_query", "my_chat_member")
# An update names its kind by the one optional field it carries; recorded up to this length.
MAX_KIND = 32


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class User(_Shape):
    id: TelegramId
    is_bot: bool = False
    first_name: str = ""
    language_code: str | None = None


class Chat(_Shape):
    id: TelegramId
    type: Word  # private, group, supergroup or channel


class Message(_Shape):
    message_id: int
    chat: Chat
    sender: User | None = Field(None, alias="from")
    text: str | None = Field(None, max_length=4096)
    # A group upgraded to a supergroup: the service message in the old group names the new
    # id; the first message in the new supergroup names the old one.
    migrate_to_chat_id: TelegramId | None = None
    migrate_from_chat_id: TelegramId | None = None


class CallbackQuery(_Shape):
    id: str = Field(min_length=1, max_length=64)
    sender: User = Field(alias="from")
    # The message with the button (an InaccessibleMessage still carries chat and message_id).
    message: Message | None = None
    data: str | None = Field(None, max_length=64)  # callback_data is 1-64 bytes


class ChatMember(_Shape):
    status: Word  # creator, administrator, member, restricted, left or kicked


class ChatMemberUpdated(_Shape):
    chat: Chat
    sender: User = Field(alias="from")
    new_chat_member: ChatMember


class Update(_Shape):
    update_id: int = Field(ge=0, le=2**53)
    message: Message | None = None
    callback_query: CallbackQuery | None = None
    my_chat_member: ChatMemberUpdated | None = None
    kind: str = "empty"


class MalformedUpdate(ValueError):
    """The body is not an Update. ``items`` are the first problems as the API's error items
    (``{"field", "message", "type"}``: the webhook's 400); ``str(exc)`` joins them for a log line."""

    def __init__(self, items: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{item['field']}: {item['message']}" for item in items))
        self.items = items


def _malformed_body(message: str) -> MalformedUpdate:
    return MalformedUpdate([{"field": "body", "message": message, "type": "invalid"}])


def parse_update(body: bytes | str | dict[str, Any]) -> Update:
    """One Update from a webhook body (bytes, parsed by ``service.json_input``) or a getUpdates item (a dict).

    Raises ``MalformedUpdate`` naming the first problems ("message.chat.id: Field
    required"); an update with no field the bot knows parses with only ``kind`` set.
    """
    document: Any = body
    if isinstance(body, bytes | str):
        try:
            document = parse_json(body)
        except JsonRefused as exc:
            raise _malformed_body(f"is not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise _malformed_body(f"must be a JSON object (an Update), not {type(document).__name__}")
    kind = next((key for key in document if key != "update_id"), "empty")[:MAX_KIND]
    if not WORD.match(kind):
        kind = "unknown"  # not a field name Telegram would use; recorded as such
    # Only the kinds the bot handles are validated further; any other is taken as it is.
    wanted = ("update_id", kind) if kind in HANDLED_KINDS else ("update_id",)
    fields = {key: document[key] for key in wanted if key in document}
    try:
        return Update.model_validate({**fields, "kind": kind})
    except ValidationError as exc:
        raise MalformedUpdate(validation_items(list(exc.errors()))[:5]) from None


def command_of(text: str | None, bot_username: str | None = None) -> tuple[str, str] | None:
    """(command, argument) of a message such as ``/subscribe`` or ``/start@DeskBot arg``,
    lower-cased, or None when the text is not a command or names another bot."""
    if not text or not text.startswith("/"):
        return None
    head, _, argument = text.partition(" ")
    command, _, addressee = head[1:].partition("@")
    if addressee and bot_username is not None and addressee.lower() != bot_username.lower():
        return None  # "/start@OtherBot" in a group is meant for another bot
    return command.lower(), argument.strip()
