"""JSON from outside is parsed within bounds (service/json_input.py), and every reader of
outside JSON — API bodies, webhooks, third parties' answers — refuses what it refuses with a
ValueError, never a RecursionError."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from multidict import CIMultiDict

from config.settings import get_settings
from service.channels.chat import DiscordChannel
from service.channels.http import HttpAnswer
from service.channels.telegram import _telegram_result
from service.json_input import MAX_DEPTH, JsonRefused, parse_json
from service.telegram.bot_api import MAX_ANSWER_BYTES, BotApi, BotApiError


def nested(depth: int, kind: str = "array") -> bytes:
    opening, closing = (b"[", b"]") if kind == "array" else (b'{"a": ', b"}")
    return opening * depth + b"1" + closing * depth


@pytest.mark.parametrize("kind", ["array", "object"])
def test_nesting_up_to_the_bound_parses_and_one_level_more_is_refused(kind: str) -> None:
    assert parse_json(nested(MAX_DEPTH, kind)) is not None
    with pytest.raises(JsonRefused, match=f"nested more than {MAX_DEPTH} deep"):
        parse_json(nested(MAX_DEPTH + 1, kind))


@pytest.mark.parametrize("depth", [500, 990, 5_000, 100_000])
def test_nesting_any_deeper_is_refused_the_same_way(depth: int) -> None:
    # 500 and 990 parse in CPython and overflowed the stack later; deeper raised RecursionError.
    with pytest.raises(JsonRefused, match="nested more than"):
        parse_json(nested(depth))
    with pytest.raises(JsonRefused):
        parse_json(b"[" * depth)


def test_brackets_inside_strings_and_wide_documents_are_not_nesting() -> None:
    assert parse_json(json.dumps({"text": "[" * 10_000}).encode()) == {"text": "[" * 10_000}
    wide = [[n] for n in range(50_000)]
    assert parse_json(json.dumps(wide)) == wide


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8 text (byte 0)"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8 text"),
        (b'{"a": ', "Expecting value at character 6"),
        (b"", "Expecting value at character 0"),
        (b"\xef\xbb\xbf{}", "Unexpected UTF-8 BOM"),
    ],
)
def test_what_is_not_utf8_json_is_refused_saying_why(data: bytes, reason: str) -> None:
    with pytest.raises(JsonRefused) as refused:
        parse_json(data)
    assert refused.value.msg.startswith(reason)
    assert isinstance(refused.value, ValueError)


def test_third_parties_answers_are_read_within_the_same_bounds() -> None:
    deep = json.dumps({"ok": False, "parameters": {"retry_after": 3}}).encode()[:-1] + b', "x": ' + nested(5_000) + b"}"
    answer = HttpAnswer(429, CIMultiDict(), deep)
    with pytest.raises(ValueError, match="nested more than"):
        answer.json()
    # A receiver's deep answer is "no usable answer", not a crashed batch.
    assert DiscordChannel.retry_after(answer) is None
    result = _telegram_result(HttpAnswer(429, CIMultiDict(), nested(5_000)), 0.0)
    assert not result.ok and "Telegram 429" in (result.error or "")


def test_a_bot_api_answer_nested_too_deep_is_not_a_bot_api_answer(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_TELEGRAM_BOT_TOKEN", "123456:unit-test-token")
    # A server speaking HTTP as the Bot API's base URL would, answering with nesting no recursion survives.
    transport = httpx.MockTransport(
        lambda _: httpx.Response(200, content=b'{"ok": true, "result": ' + nested(5_000) + b"}")
    )
    with httpx.Client(transport=transport) as client, pytest.raises(BotApiError, match="not a Bot API answer"):
        BotApi(get_settings(), client=client).call("getMe")


def test_a_bot_api_answer_longer_than_its_bound_is_not_read_to_the_end(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_TELEGRAM_BOT_TOKEN", "123456:unit-test-token")
    sent: list[int] = []

    def stream() -> Iterator[bytes]:
        yield b'{"ok": true, "result": "'
        for _ in range(MAX_ANSWER_BYTES // 65536 + 100):
            sent.append(1)
            yield b"x" * 65536

    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=stream()))
    with httpx.Client(transport=transport) as client, pytest.raises(BotApiError, match="longer than"):
        BotApi(get_settings(), client=client).call("getUpdates")
    assert len(sent) < MAX_ANSWER_BYTES // 65536 + 100
