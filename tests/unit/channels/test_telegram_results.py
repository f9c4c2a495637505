"""How the Bot API's answers to an announcement become results: gone, moved, later."""

import json
import time
from typing import Any

import pytest

from service.channels.http import HttpAnswer
from service.channels.telegram import _telegram_result
from service.telegram.bot_api import BotApiError


def answer(status: int, body: dict[str, Any]) -> HttpAnswer:
    return HttpAnswer(status, {"content-type": "application/json"}, json.dumps(body).encode())


def error(code: int, description: str, **parameters: Any) -> HttpAnswer:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return answer(code, body)


@pytest.mark.parametrize(
    "description",
    [
        "Forbidden: bot was blocked by the user",
        "Forbidden: user is deactivated",
        "Forbidden: bot was kicked from the group chat",
    ],
)
def test_a_403_ends_the_subscription_and_says_why(description: str) -> None:
    result = _telegram_result(error(403, description), time.perf_counter())
    assert result.gone and not result.ok and result.error == f"Telegram 403: {description}"


def test_a_deleted_chat_ends_it_too_but_other_400s_are_retried() -> None:
    assert _telegram_result(error(400, "Bad Request: chat not found"), time.perf_counter()).gone
    retried = _telegram_result(error(400, "Bad Request: can't parse entities"), time.perf_counter())
    assert not retried.gone and retried.moved_to is None


def test_a_group_upgraded_to_a_supergroup_moves_the_delivery() -> None:
    upgraded = error(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=-1001234)
    result = _telegram_result(upgraded, time.perf_counter())
    assert result.moved_to == "-1001234" and not result.gone


def test_flood_control_waits_as_long_as_asked_and_junk_is_a_plain_failure() -> None:
    result = _telegram_result(error(429, "Too Many Requests: retry after 7", retry_after=7), time.perf_counter())
    assert result.retry_after == 7.0 and not result.gone
    junk = _telegram_result(HttpAnswer(502, {}, b"<html>bad gateway</html>"), time.perf_counter())
    assert junk.error == "Telegram 502: <html>bad gateway</html>" and not junk.gone
    listed = _telegram_result(answer(400, [1]), time.perf_counter())  # type: ignore[arg-type]
    assert listed.error is not None and not listed.gone


def test_the_bots_own_calls_read_the_same_verdicts() -> None:
    assert BotApiError("sendMessage", 403, "Forbidden: bot was blocked by the user").chat_gone
    assert BotApiError("sendMessage", 400, "Bad Request: chat not found").chat_gone
    assert not BotApiError("sendMessage", 400, "Bad Request: message text is empty").chat_gone
    assert str(BotApiError("getMe", 0, "no answer (ConnectError)")) == "getMe: no answer (ConnectError)"
