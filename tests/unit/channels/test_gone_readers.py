"""Each channel's reading of its service's documented "destination gone" answers (decision 0039)."""

import asyncio
import json
from typing import Any

import pytest
from multidict import CIMultiDict

from config.settings import Settings
from service.channels.chat import DiscordChannel, SlackChannel, TeamsChannel
from service.channels.facebook import FacebookChannel, graph_retry_after, graph_words
from service.channels.http import HttpAnswer, new_http_session
from service.channels.messages import Ending, SendResult
from service.channels.registry import CHANNELS
from service.channels.telegram import TelegramChannel
from service.channels.webhook import WebhookChannel
from service.channels.zalo import ZaloChannel
from service.deliveries.ratelimit import LocalRateLimiter
from service.deliveries.sender import send_all
from tests.outbound import outbound


def answer(status: int, body: bytes | dict[str, Any] = b"", headers: dict[str, str] | None = None) -> HttpAnswer:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return HttpAnswer(status, CIMultiDict(headers or {}), raw)


def graph(code: int, subcode: int | None = None) -> HttpAnswer:
    error: dict[str, Any] = {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "t"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return answer(400, {"error": error})


ENDED, PAUSED = Ending.ENDED, Ending.PAUSED
CASES = [
    (SlackChannel.gone, answer(404, b"no_service"), ENDED),
    (SlackChannel.gone, answer(404, b"channel_not_found"), ENDED),
    (SlackChannel.gone, answer(410, b"channel_is_archived"), ENDED),
    (SlackChannel.gone, answer(403, b"invalid_token"), ENDED),
    (SlackChannel.gone, answer(403, b"action_prohibited"), None),  # a restriction, not the end
    (SlackChannel.gone, answer(400, b"invalid_payload"), None),
    (SlackChannel.gone, answer(500, b"rollup_error"), None),
    (DiscordChannel.gone, answer(404, {"message": "Unknown Webhook", "code": 10015}), ENDED),
    (DiscordChannel.gone, answer(401, {"message": "Invalid Webhook Token", "code": 50027}), ENDED),
    (DiscordChannel.gone, answer(404, b"<html>not found</html>"), None),
    (DiscordChannel.gone, answer(400, {"code": 50035}), None),
    (TeamsChannel.gone, answer(410), ENDED),
    (TeamsChannel.gone, answer(404), ENDED),
    (TeamsChannel.gone, answer(400), None),
    (TelegramChannel.gone, answer(403, {"ok": False, "description": "Forbidden: bot was blocked by the user"}), ENDED),
    (TelegramChannel.gone, answer(400, {"ok": False, "description": "Bad Request: chat not found"}), ENDED),
    (TelegramChannel.gone, answer(400, {"ok": False, "description": "Bad Request: message is too long"}), None),
    (ZaloChannel.gone, answer(200, {"error": -213, "message": "User has not followed OA"}), ENDED),
    (ZaloChannel.gone, answer(200, {"error": -227, "message": "User is banned or inactive"}), ENDED),
    (ZaloChannel.gone, answer(200, {"error": -216, "message": "Access token is invalid"}), None),
    (FacebookChannel.gone, graph(190, 460), PAUSED),
    (FacebookChannel.gone, graph(190, 463), PAUSED),
    (FacebookChannel.gone, graph(102), PAUSED),
    (FacebookChannel.gone, graph(10), PAUSED),
    (FacebookChannel.gone, graph(200), PAUSED),
    (FacebookChannel.gone, graph(32), None),
    (FacebookChannel.gone, graph(506), None),
    (WebhookChannel.gone, answer(410), ENDED),
    (WebhookChannel.gone, answer(404), None),
]


@pytest.mark.parametrize(("reader", "response", "ending"), CASES)
def test_each_channel_reads_its_documented_gone_answers(reader: Any, response: HttpAnswer, ending: Any) -> None:
    assert reader(response) is ending


def test_every_http_channel_declares_its_reader() -> None:
    without = sorted(name for name, channel in CHANNELS.items() if not callable(getattr(channel, "gone", None)))
    assert without == ["apprise", "email"]  # a library's verdict and SMTP's reply codes: their own rules


def test_graph_throttling_waits_as_the_usage_headers_say() -> None:
    usage = {"123": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    assert graph_retry_after(answer(400, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})) == 420
    page = {"call_count": 100, "estimated_time_to_regain_access": 2}
    assert graph_retry_after(answer(400, headers={"X-Page-Usage": json.dumps(page)})) == 120
    assert graph_retry_after(answer(429, headers={"Retry-After": "30"})) == 30
    assert graph_retry_after(answer(400, headers={"X-App-Usage": "not json"})) is None


def test_graph_words_keep_facebooks_message_code_and_trace() -> None:
    assert graph_words(graph(190, 460)) == "Facebook 190/460: m (fbtrace_id t)"
    assert graph_words(answer(502, b"<html>bad gateway</html>")) == "Facebook HTTP 502: <html>bad gateway</html>"


def test_a_message_with_no_article_link_is_not_put_on_the_page() -> None:
    """A test message (no page to link) fails before any Graph call: nothing public is posted."""
    settings = Settings(facebook_page_token="EAAG-token")
    test_message = outbound("subscription.test", {"message": "x"}, channel="facebook", target="1043")

    async def run() -> list[SendResult]:
        session = new_http_session(settings)
        try:
            return await send_all([test_message], settings, LocalRateLimiter(), session)
        finally:
            await session.close()

    [result] = asyncio.run(run())
    assert (result.ok, result.status_code, result.error) == (
        False,
        None,
        "not posted: a Page post needs an article's link",
    )
