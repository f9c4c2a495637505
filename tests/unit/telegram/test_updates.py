"""Bot API updates parsed to what the bot uses; anything else refused with the field named."""

import pytest

from service.telegram.updates import MalformedUpdate, command_of, parse_update
from service.telegram.words import locale_of


def test_a_command_message_parses_with_its_sender_language() -> None:
    update = parse_update(
        b'{"update_id": 10, "message": {"message_id": 3, "date": 1, "text": "/start",'
        b' "from": {"id": 7, "is_bot": false, "first_name": "Lan", "language_code": "en-GB"},'
        b' "chat": {"id": 7, "type": "private"}, "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}'
    )
    assert update.kind == "message" and update.message is not None
    assert update.message.chat.id == 7 and update.message.text == "/start"
    assert update.message.sender is not None and locale_of(update.message.sender.language_code) == "en"


def test_a_callback_query_and_a_supergroup_id_beyond_32_bits() -> None:
    update = parse_update(
        {
            "update_id": 11,
            "callback_query": {
                "id": "4382",
                "from": {"id": 7, "is_bot": False, "first_name": "Lan"},
                "message": {"message_id": 9, "date": 0, "chat": {"id": -1001234567890, "type": "supergroup"}},
                "chat_instance": "1",
                "data": "sub:3",
            },
        }
    )
    assert update.kind == "callback_query" and update.callback_query is not None
    assert update.callback_query.message is not None and update.callback_query.message.chat.id == -1001234567890


def test_a_kind_the_bot_does_not_handle_is_taken_as_it_is() -> None:
    update = parse_update({"update_id": 12, "edited_message": {"anything": ["goes"]}})
    assert update.kind == "edited_message" and update.message is None
    assert parse_update({"update_id": 13}).kind == "empty"
    assert parse_update({"update_id": 14, "x" * 50: 1}).kind == "x" * 32
    assert parse_update({"update_id": 15, "bad\u0000kind": 1}).kind == "unknown"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "body: is not valid JSON"),
        (b"\xff\xfe", "body: is not valid JSON"),
        (b"[" * 100_000, "body: is not valid JSON: arrays or objects nested more than 64 deep"),
        (
            b'{"update_id": 1, "poll": ' + b"[" * 70 + b"]" * 70 + b"}",
            "body: is not valid JSON: arrays or objects nested",
        ),
        (b'"update"', "body: must be a JSON object (an Update), not str"),
        (b"{}", "update_id: Field required"),
        (b'{"update_id": "abc"}', "update_id: Input should be a valid integer"),
        (b'{"update_id": 9007199254740993}', "update_id: Input should be less than or equal to 9007199254740992"),
        (b'{"update_id": 1, "message": {"message_id": 1}}', "message.chat: Field required"),
        (b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1}}}', "message.chat.type: Field required"),
        (b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1, "type": "x\\u0000"}}}', "message.chat.type"),
        (b'{"update_id": 1, "callback_query": {"id": "q"}}', "callback_query.from: Field required"),
        (b'{"update_id": 1, "my_chat_member": {"chat": {"id": 1, "type": "private"}}}', "my_chat_member.from"),
    ],
)
def test_a_body_that_is_not_an_update_names_the_field(body: bytes, message: str) -> None:
    with pytest.raises(MalformedUpdate) as raised:
        parse_update(body)
    assert message in str(raised.value)


def test_commands_lower_cased_with_their_argument_and_addressee() -> None:
    assert command_of("/Subscribe") == ("subscribe", "")
    assert command_of("/start@BantinBot deep-link", "bantinbot") == ("start", "deep-link")
    assert command_of("/start@OtherBot", "BantinBot") is None
    assert command_of("/start@OtherBot", None) == ("start", "")  # the bot's name unknown: taken
    assert command_of("xin chào") is None and command_of(None) is None and command_of("") is None


def test_english_only_for_an_english_language_code() -> None:
    assert [locale_of(c) for c in ("en", "EN-us", "vi", None, "", "fr")] == ["en", "en", "vi", "vi", "vi", "vi"]
