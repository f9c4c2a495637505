"""E-mail over STARTTLS and implicit TLS, to a real aiosmtpd server with a test CA."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from config.settings import Settings
from service.channels.http import new_http_session
from service.deliveries.ratelimit import LocalRateLimiter
from service.deliveries.sender import send_all
from tests.integration.stack import free_port
from tests.outbound import outbound


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return authority, bundle


def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(params=["starttls", "tls"])
def relay(request: pytest.FixtureRequest, ca: tuple[trustme.CA, Path]) -> Iterator[tuple[str, int, Sink]]:
    sink, port = Sink(), free_port()
    if request.param == "starttls":
        controller = Controller(
            sink, hostname="127.0.0.1", port=port, tls_context=server_context(ca[0]), require_starttls=True
        )
    else:
        controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_context(ca[0]))
    controller.start()
    yield request.param, port, sink
    controller.stop()


def send(settings: Settings, target: str) -> Any:
    message = outbound(
        "article.published",
        {"article": {"title": "Quốc khánh 2/9", "url": "https://b.vn/a"}},
        delivery_id="msg_tls",
        channel="email",
        target=target,
        created_at=time.time(),
        unsubscribe_token="tok",
        settings=settings,
    )

    async def run() -> Any:
        http = new_http_session(settings)
        try:
            return await send_all([message], settings, LocalRateLimiter(), http)
        finally:
            await http.close()

    return asyncio.run(run())[0]


def test_email_over_tls_with_a_private_ca(relay: tuple[str, int, Sink], ca: tuple[trustme.CA, Path]) -> None:
    security, port, sink = relay
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        smtp_ca_file=ca[1],
        smtp_from="Bantin <bantin@example.vn>",
        database_url="sqlite://",
    )
    result = send(settings, "ban-doc@example.vn")
    assert result.ok, result.error
    [mail] = sink.messages
    assert mail["Subject"] == "Bài mới: Quốc khánh 2/9"


def test_untrusted_certificate_is_a_failure_not_a_silent_downgrade(relay: tuple[str, int, Sink]) -> None:
    security, port, sink = relay
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security=security, database_url="sqlite://")
    result = send(settings, "ban-doc@example.vn")
    assert not result.ok and "SMTP" in (result.error or "")
    assert sink.messages == []


def test_received_email_is_well_formed_automated_bulk_mail(
    relay: tuple[str, int, Sink], ca: tuple[trustme.CA, Path]
) -> None:
    """Parsed as the relay received it: RFC 5322 Date/From/Message-ID, RFC 3834, RFC 2919, RFC 8058."""
    security, port, sink = relay
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        smtp_ca_file=ca[1],
        smtp_from="ban-tin@example.vn",  # no display name: the site title is used
        site_title="Bản tin Đà Nẵng",
        base_url="https://tin.example.vn/sub?lang=vi",
        database_url="sqlite://",
    )
    assert send(settings, "ban-doc@example.vn").ok
    [mail] = sink.messages
    assert mail["From"].addresses[0].display_name == "Bản tin Đà Nẵng"
    assert mail["From"].addresses[0].addr_spec == "ban-tin@example.vn"
    sent_at = mail["Date"].datetime
    assert sent_at.utcoffset() == timedelta(hours=7) and abs(time.time() - sent_at.timestamp()) < 3600
    assert mail["Message-ID"].startswith("<") and mail["Message-ID"].endswith("@example.vn>")
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Id"] == "Bản tin Đà Nẵng <announcements.tin.example.vn>"  # RFC 2047: one encoded-word
    assert mail["List-Unsubscribe"] == "<https://tin.example.vn/sub/unsubscribe/tok?lang=vi>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for header in ("Date", "From", "Message-ID", "Subject", "To", "Auto-Submitted", "List-Id"):
        assert len(mail.get_all(header)) == 1, header
