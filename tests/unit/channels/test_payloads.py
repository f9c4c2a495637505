import json
from typing import Any

from multidict import CIMultiDict
from standardwebhooks import Webhook

from service.announcements.compose import render_text
from service.channels.chat import DiscordChannel
from service.channels.http import HttpAnswer
from service.channels.messages import Ending, OutboundMessage
from service.channels.results import classify, retry_after_seconds
from service.channels.telegram import telegram_html
from service.channels.webhook import new_secret, signature_headers, webhook_body
from service.channels.websub_channel import hub_signature
from tests.outbound import outbound

ARTICLE = {"article": {"title": "Quốc khánh <2/9> & Tết", "summary": "Tóm tắt", "url": "https://b.vn/articles/1/x"}}


def message(**overrides: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "delivery_id": "msg_0001",
        "subscription_id": 1,
        "channel": "webhook",
        "target": "https://8.8.8.8/h",
        "created_at": 1_800_000_000.0,
        "secrets": (new_secret(),),
    }
    fields.update(overrides)
    return outbound("article.published", ARTICLE, **fields)  # type: ignore[arg-type]


def test_signature_verifies_with_the_standardwebhooks_library() -> None:
    msg = message()
    body = webhook_body(msg)
    headers = signature_headers(msg, body)
    assert Webhook(msg.secrets[0]).verify(body, headers)["data"] == ARTICLE
    assert headers["webhook-id"] == "msg_0001"


def test_rotation_sends_both_signatures_and_each_verifies() -> None:
    old, new = new_secret(), new_secret()
    msg = message(secrets=(new, old))
    body = webhook_body(msg)
    headers = signature_headers(msg, body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_body_is_the_same_bytes_on_every_attempt() -> None:
    assert webhook_body(message()) == webhook_body(message())
    assert json.loads(webhook_body(message()))["timestamp"] == "2027-01-15T08:00:00Z"


def test_text_per_locale_and_event() -> None:
    vi = render_text("article.updated", ARTICLE, "vi")
    en = render_text("article.published", ARTICLE, "en")
    gone = render_text("article.withdrawn", ARTICLE, "vi")
    assert vi.subject == "Cập nhật: Quốc khánh <2/9> & Tết"
    assert en.subject.startswith("New article: ")
    assert gone.url is None and "https://" not in gone.text  # a withdrawn article has no page to link
    assert "&lt;2/9&gt; &amp;" in vi.html


def test_prepared_reminder_text_is_used_as_it_is() -> None:
    payload = {"text": {"vi": "Còn 7 ngày: Kỷ niệm 97 năm", "en": "7 days to go"}}
    assert render_text("reminder.due", payload, "en").text == "7 days to go"
    assert render_text("reminder.due", payload, "fr").text == "Còn 7 ngày: Kỷ niệm 97 năm"


def test_telegram_html_escapes_everything_but_its_own_tags() -> None:
    text = telegram_html(render_text("article.published", ARTICLE, "vi"))
    assert text.startswith("<b>Bài mới: Quốc khánh &lt;2/9&gt; &amp; Tết</b>")
    assert '<a href="https://b.vn/articles/1/x">' in text


def test_discord_retry_after_seconds_or_milliseconds() -> None:
    def response(headers: dict[str, str], body: dict[str, Any]) -> HttpAnswer:
        return HttpAnswer(429, CIMultiDict(headers), json.dumps(body).encode())

    assert DiscordChannel.retry_after(response({"Retry-After": "3"}, {"retry_after": 3000})) == 3.0
    assert DiscordChannel.retry_after(response({}, {"retry_after": 1.5})) == 1.5  # API v8+: seconds
    assert DiscordChannel.retry_after(response({}, {"retry_after": 2500})) == 2.5  # API v6: milliseconds
    assert DiscordChannel.retry_after(response({"X-RateLimit-Reset-After": "0.75"}, {})) == 0.75
    assert DiscordChannel.retry_after(response({}, {})) is None


def test_http_classification() -> None:
    def result(status: int, headers: dict[str, str] | None = None) -> tuple[bool, Ending | None, float | None]:
        r = classify(HttpAnswer(status, CIMultiDict(headers or {}), b""), 0.0)
        return r.ok, r.gone, r.retry_after

    assert result(204) == (True, None, None)
    assert result(301, {"Location": "https://elsewhere"})[0] is False
    assert result(410) == (False, Ending.ENDED, None)
    assert result(429, {"Retry-After": "120"}) == (False, None, 120.0)
    assert result(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == (False, None, 0.0)
    assert result(500, {"Retry-After": "120"}) == (False, None, None)  # only back-off statuses honour it
    assert retry_after_seconds(CIMultiDict({"Retry-After": "soon"})) is None


def test_websub_signature_is_hex_hmac_sha256() -> None:
    assert hub_signature("bí mật", b"<feed/>") == (
        "sha256=" + __import__("hmac").new("bí mật".encode(), b"<feed/>", "sha256").hexdigest()
    )


def test_telegram_429_waits_for_parameters_retry_after_and_403_is_gone() -> None:
    from service.channels.telegram import _telegram_result

    limited = _telegram_result(
        HttpAnswer(
            429,
            CIMultiDict(),
            json.dumps(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 7",
                    "parameters": {"retry_after": 7},
                }
            ).encode(),
        ),
        0.0,
    )
    assert (limited.ok, limited.retry_after, limited.gone) == (False, 7.0, None)
    blocked = _telegram_result(
        HttpAnswer(
            403,
            CIMultiDict(),
            json.dumps(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            ).encode(),
        ),
        0.0,
    )
    assert blocked.gone and "blocked" in (blocked.error or "")
    ok = _telegram_result(HttpAnswer(200, CIMultiDict(), b'{"ok": true, "result": {}}'), 0.0)
    assert ok.ok
