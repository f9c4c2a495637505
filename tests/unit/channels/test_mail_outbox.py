"""Mail never fails in silence (issue 20 §2): where mail goes with and without a relay, the
development outbox's files, and the relay check's warning."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
from typing import Any, cast

import pytest

from config.settings import get_settings
from service.channels import mail_outbox, mail_relay
from service.channels.base import SendContext
from service.channels.mail import EmailChannel
from service.deliveries.ratelimit import LocalRateLimiter
from tests.outbound import outbound

ARTICLE = {"article": {"title": "Quốc khánh 2/9", "summary": "Tóm tắt", "url": "https://b.vn/a"}}


@pytest.fixture(autouse=True)
def fresh_health() -> Any:
    mail_relay.forget()
    yield
    mail_relay.forget()


def _send(delivery_id: str = "msg_1") -> Any:
    context = SendContext(get_settings(), cast(Any, None), LocalRateLimiter())
    message = outbound("article.published", ARTICLE, channel="email", target="ban.doc@example.vn",
                       delivery_id=delivery_id, unsubscribe_token="tok")  # fmt: skip
    return asyncio.run(EmailChannel().send(context, message))


def test_development_without_a_relay_keeps_each_mail_as_an_eml_file(settings_override: pytest.MonkeyPatch,
                                                                    tmp_path: Any) -> None:  # fmt: skip
    settings_override.setenv("BANTIN_ENVIRONMENT", "development")
    settings_override.setenv("BANTIN_VAR_DIR", str(tmp_path))
    settings_override.delenv("BANTIN_SMTP_HOST", raising=False)
    assert mail_relay.route(get_settings()) == "outbox"
    first, second = _send("msg_1"), _send("msg_2")
    assert first.ok and second.ok
    names = mail_outbox.names(get_settings())
    assert len(names) == 2 and names[0].endswith("-msg_2.eml")  # newest first
    assert sorted(os.listdir(tmp_path / "outbox")) == sorted(names)  # no temporary file left behind
    assert stat.S_IMODE((tmp_path / "outbox" / names[0]).stat().st_mode) == 0o600
    kept = mail_outbox.read(get_settings(), names[1])
    assert kept is not None and kept.subject == "Bài mới: Quốc khánh 2/9" and kept.to == "ban.doc@example.vn"
    assert "Tóm tắt" in kept.text and '<meta name="color-scheme" content="light dark">' in kept.html


@pytest.mark.parametrize("name", ["../secret_key", "x.eml", "20261207T105100000000-a/../../b.eml", ".writing-1"])
def test_the_outbox_reads_nothing_but_its_own_files(settings_override: pytest.MonkeyPatch, tmp_path: Any,
                                                    name: str) -> None:  # fmt: skip
    settings_override.setenv("BANTIN_VAR_DIR", str(tmp_path))
    (tmp_path / "secret_key").write_text("s")
    assert mail_outbox.read(get_settings(), name) is None


def test_production_without_a_relay_refuses_to_send_and_warns_at_the_check(
    settings_override: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings_override.setenv("BANTIN_ENVIRONMENT", "production")
    settings_override.setenv("BANTIN_SECRET_KEY", "k" * 48)
    settings_override.delenv("BANTIN_SMTP_HOST", raising=False)
    result = _send()
    assert not result.ok and result.error == "BANTIN_SMTP_HOST is not set"
    with caplog.at_level(logging.WARNING, "service.channels.mail_relay"):
        health = asyncio.run(mail_relay.check(get_settings()))
    assert health.state == "unset" and not health.accepts_mail and mail_relay.current() is health
    assert "mail cannot be sent (unset)" in caplog.text


def test_a_relay_that_does_not_answer_is_failing_and_said_once(
    settings_override: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings_override.setenv("BANTIN_SMTP_HOST", "127.0.0.1")
    settings_override.setenv("BANTIN_SMTP_PORT", str(port))
    settings_override.setenv("BANTIN_SMTP_SECURITY", "plain")
    with caplog.at_level(logging.WARNING, "service.channels.mail_relay"):
        first = asyncio.run(mail_relay.check(get_settings()))
        asyncio.run(mail_relay.check(get_settings()))
    assert first.state == "failing" and f"127.0.0.1:{port}" in first.detail and not first.accepts_mail
    assert caplog.text.count("mail cannot be sent (failing)") == 1
