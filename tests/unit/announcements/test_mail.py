"""The e-mail a kind's words become: one layout (site name, logo, accent colour, footer links)
from autoescaped templates, and the same plain text and headers as before."""

from __future__ import annotations

from collections.abc import Mapping
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from config.settings import get_settings
from service.channels.mail import build_email
from tests.outbound import outbound

ARTICLE = {"article": {"title": "Quốc khánh <2/9>", "summary": "Tóm tắt & lời", "url": "https://b.vn/a?x=1&y=2"}}


def mail(event_type: str, payload: Mapping[str, Any], locale: str = "vi") -> EmailMessage:
    message = outbound(
        event_type, payload, channel="email", target="ban.doc@example.vn", unsubscribe_token="tok", locale=locale
    )
    parsed = message_from_bytes(build_email(get_settings(), message), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def part(message: EmailMessage, kind: str) -> str:
    body = message.get_body((kind,))
    assert body is not None
    return str(body.get_content())


def test_the_layout_carries_the_sites_name_logo_and_accent_and_escapes_everything(
    settings_override: pytest.MonkeyPatch,
) -> None:
    settings_override.setenv("BANTIN_SITE_TITLE", 'Thành ủy <Đà Nẵng> & "Báo"')
    settings_override.setenv("BANTIN_LOGO_URL", "/static/logo.png")
    settings_override.setenv("BANTIN_ACCENT_COLOR", "#0a5c36")
    html = part(mail("article.published", ARTICLE), "html")
    assert '<html lang="vi">' in html and "Thành ủy &lt;Đà Nẵng&gt; &amp; &#34;Báo&#34;" in html
    assert '<img src="https://bantin.example.vn/static/logo.png"' in html and "#0a5c36" in html
    assert "<p>Bài mới: Quốc khánh &lt;2/9&gt;</p><p>Tóm tắt &amp; lời</p>" in html
    assert '<a href="https://b.vn/a?x=1&amp;y=2">' in html
    footer = html.rsplit("<hr", 1)[1]
    assert "/subscribe/preferences/" in footer and ">Tùy chọn nhận tin</a> · <a href=" in footer
    assert 'href="https://bantin.example.vn/unsubscribe/tok"' in footer and ">Hủy đăng ký</a>" in footer


def test_the_plain_text_ends_with_the_footer_links_as_a_signature() -> None:
    text = part(mail("article.published", ARTICLE, locale="en"), "plain")
    body, signature = text.split("\n\n-- \n")
    assert body == "New article: Quốc khánh <2/9>\nTóm tắt & lời\nhttps://b.vn/a?x=1&y=2"
    assert signature.startswith("Preferences: https://bantin.example.vn/subscribe/preferences/1/")
    assert signature.endswith("\nUnsubscribe: https://bantin.example.vn/unsubscribe/tok\n")


def test_a_digest_and_a_reader_mail_share_the_layout_and_say_their_own_words() -> None:
    digest = mail(
        "reader.digest",
        {
            "frequency": "daily",
            "period_start": "2026-11-29T23:30:00+00:00",
            "covers_from": "2026-11-28T23:30:00+00:00",
            "articles": [{"title": "Tin <một>", "summary": None, "url": "https://b.vn/1", "image_url": None}],
        },
        locale="en",
    )
    html = part(digest, "html")
    assert html.startswith('<!doctype html>\n<html lang="en">') and html.endswith("</p></div></body></html>")
    assert str(digest["Subject"]) == "Thành ủy Đà Nẵng daily digest, 30/11/2026"
    assert '<h2><a href="https://b.vn/1">Tin &lt;một&gt;</a></h2>' in html and ">Read →</a>" in html
    assert "1 new article from 06:30 29/11 to 06:30 30/11." in html  # one article: the singular
    manage = mail("reader.manage", {})
    assert str(manage["Subject"]) == "Quản lý đăng ký nhận tin Thành ủy Đà Nẵng"
    assert "Địa chỉ ban.doc@example.vn đã đăng ký nhận bản tin" in part(manage, "html")
    assert part(manage, "html").count("Thành ủy Đà Nẵng</p>") == 1  # the layout's heading


def test_a_resend_carries_the_message_id_of_its_first_attempt() -> None:
    """A batch sent again after its worker died builds each mail again: the Message-ID is the
    delivery's, not a fresh random one, so mail clients see one message (decision 0048)."""

    def message_id(delivery_id: str) -> str:
        message = outbound("article.published", ARTICLE, channel="email", target="a@b.vn", delivery_id=delivery_id)
        parsed = message_from_bytes(build_email(get_settings(), message), policy=default)
        return str(parsed["Message-ID"])

    first = message_id("msg_0123456789abcdef0123456789abcdef")
    assert first == message_id("msg_0123456789abcdef0123456789abcdef")
    assert first.startswith("<msg_0123456789abcdef0123456789abcdef@") and first.endswith(">")
    assert message_id("msg_fedcba9876543210fedcba9876543210") != first
