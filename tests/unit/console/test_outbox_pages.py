"""The development outbox page and the dashboard's mail banner (issue 20 §2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config.settings import get_settings
from service.channels import mail_outbox, mail_relay
from service.channels.mail import build_email
from tests.outbound import outbound

ARTICLE = {"article": {"title": "Quốc khánh <2/9>", "summary": "Tóm tắt & lời", "url": "https://b.vn/a"}}


@pytest.fixture
def outbox(settings_override: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    settings_override.setenv("BANTIN_ENVIRONMENT", "development")
    settings_override.setenv("BANTIN_VAR_DIR", str(tmp_path))
    settings_override.delenv("BANTIN_SMTP_HOST", raising=False)
    mail_relay.forget()
    return tmp_path / "outbox"


def test_each_kept_mail_is_shown_rendered_in_a_sandboxed_frame_with_its_text(
    outbox: Path, admin: tuple[TestClient, str]
) -> None:
    client, _ = admin
    empty = client.get("/console/outbox")
    assert empty.status_code == 200 and "Chưa có thư nào" in empty.text
    message = outbound("article.published", ARTICLE, channel="email", target="ban.doc@example.vn",
                       unsubscribe_token="tok")  # fmt: skip
    name = mail_outbox.write(get_settings(), "msg_1", build_email(get_settings(), message)).name
    page = client.get("/console/outbox")
    assert page.status_code == 200 and f'href="/console/outbox/{name}"' in page.text
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="&lt;!doctype html&gt;' in page.text
    assert "&lt;base target=&#34;_blank&#34;&gt;" in page.text  # links open outside the frame
    assert "Bài mới: Quốc khánh &lt;2/9&gt;" in page.text and "Tóm tắt &amp; lời" in page.text
    assert client.get(f"/console/outbox/{name}").status_code == 200
    assert client.get("/console/outbox/..%2Fsecret_key").status_code == 404


def test_an_editor_cannot_read_the_outbox(outbox: Path, editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    assert client.get("/console/outbox").status_code == 403


def test_the_dashboard_says_where_mail_goes_or_that_it_cannot(
    admin: tuple[TestClient, str], settings_override: pytest.MonkeyPatch
) -> None:
    client, _ = admin
    settings_override.setenv("BANTIN_ENVIRONMENT", "production")
    settings_override.setenv("BANTIN_SECRET_KEY", "k" * 48)
    settings_override.delenv("BANTIN_SMTP_HOST", raising=False)
    asyncio.run(mail_relay.check(get_settings()))
    try:
        page = client.get("/console/")
        assert 'class="banner warn" role="alert"' in page.text and "Không gửi được thư điện tử." in page.text
        settings_override.setenv("BANTIN_ENVIRONMENT", "development")
        get_settings.cache_clear()
        asyncio.run(mail_relay.check(get_settings()))
        page = client.get("/console/")
        assert 'class="banner info"' in page.text and 'href="/console/outbox"' in page.text
    finally:
        mail_relay.forget()
