"""E-mail over SMTP (plain, STARTTLS or TLS): multipart text + HTML, one-click unsubscribe.

Outside production with no ``BANTIN_SMTP_HOST``, the same bytes go to the development
outbox instead (``mail_outbox``; where mail goes: ``mail_relay.route``)."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from config.settings import Settings
from service.announcements.message import Medium
from service.channels import mail_outbox, mail_relay
from service.channels.base import SendContext
from service.channels.egress import EgressPolicy
from service.channels.mail_headers import ascii_domain, header, named_address
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.channels.results import elapsed_ms
from service.errors import InvalidField

CONNECTION = "email.smtp"


def sender(settings: Settings) -> Address:
    """``BANTIN_SMTP_FROM`` with a display name: its own, or ``BANTIN_SITE_TITLE``."""
    return _sender(settings.smtp_from, settings.site_title)


@lru_cache(maxsize=16)
def _sender(smtp_from: str, site_title: str) -> Address:
    # Parsed once per value, not once per message (a third of a digest's own CPU before).
    name, address = parseaddr(smtp_from)
    local, at, domain = address.rpartition("@")
    return Address(display_name=name or site_title, addr_spec=f"{local}{at}{ascii_domain(domain)}" if at else address)


def list_id(settings: Settings) -> str:
    """RFC 2919 ``List-Id``'s identifier: a dot-atom under the site's host name (IDNA for a
    non-ASCII host, whose labels the dot-atom cannot carry)."""
    host = urlsplit(settings.base_url).hostname or "localhost"
    return f"announcements.{ascii_domain(host)}"


def build_email(settings: Settings, outbound: OutboundMessage, now: datetime | None = None) -> bytes:
    """A finished message as the bytes sent (RFC 5322: Date, From, Message-ID), marked as
    automated bulk mail (RFC 3834 Auto-Submitted, RFC 2919 List-Id), with the headers the
    message brings (one-click unsubscribe, RFC 8058); multipart text + HTML, each part UTF-8
    in base64. The plain text ends with the footer links as a signature ("-- ", RFC 3676);
    the HTML is the message's document as rendered. ``now`` (aware) is the Date, shown in
    BANTIN_TIMEZONE.

    Composed as bytes, not through ``EmailMessage``: its header parsing and folding cost
    about 30 ms per digest here, ten times the SMTP round trip (bench/README.md, digests).
    Headers with non-ASCII words are encoded once per distinct value
    (``service/channels/mail_headers.py``), so a Vietnamese subject shared by 100,000
    readers is encoded once, and each decodes to exactly the text it was made from.
    """
    now = now or datetime.now(UTC)
    message = outbound.message
    boundary = f"=_{uuid.uuid4().hex}"
    from_address = sender(settings)
    head = b"".join(
        (
            header("Subject", message.subject),
            named_address("From", from_address.display_name, from_address.addr_spec),
            header("To", outbound.target),
            header("Date", format_datetime(now.astimezone(settings.zone))),
            header("Message-ID", message_id(outbound.delivery_id, _domain(from_address.addr_spec))),
            b"Auto-Submitted: auto-generated\r\n",  # RFC 3834: autoresponders must not answer
            named_address("List-Id", settings.site_title, list_id(settings)),
            header("X-Bantin-Delivery", outbound.delivery_id),
            # The message's own: one-click unsubscribe (RFC 8058), rendered above the transport.
            *(header(name, value) for name, value in message.headers),
            b"MIME-Version: 1.0\r\n",
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode(),
        )
    )
    signature = "".join(f"{link.label}: {link.url}\n" for link in message.footer)
    text = f"{message.text}\n\n-- \n{signature}"
    marker = f"--{boundary}\r\n".encode()
    parts = (marker, _part("plain", text), marker, _part("html", message.html), f"--{boundary}--\r\n".encode())
    return b"".join((head, b"\r\n", *parts))


def message_id(delivery_id: str, domain: str) -> str:
    """``<delivery id@domain>``: the same for every attempt of one delivery, so a resend after
    a worker died mid-batch is the same message to the reader's mail system, as a webhook's
    resend keeps its ``webhook-id`` (decision 0048; RFC 5322 §3.6.4: one identifier per
    version of a message). A message without a delivery id gets a fresh one."""
    return f"<{delivery_id}@{domain}>" if delivery_id else make_msgid(domain=domain)


def _part(subtype: str, content: str) -> bytes:
    """One UTF-8 text part in base64 (lines of 76, CRLF): safe through any relay, no 8BITMIME needed."""
    encoded = base64.encodebytes(content.encode()).replace(b"\n", b"\r\n")
    return (
        f"Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode() + encoded
    )


def _domain(sender: str) -> str:
    return sender.rsplit("@", 1)[-1].strip("> ") or "localhost"


class EmailChannel:
    name = "email"
    medium = Medium.MAIL

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The normalised address; InvalidField when it is not a valid e-mail address (deliverability not checked)."""
        try:
            return validate_email(target.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidField("target", "not_email", reason=str(exc)) from None

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """Send the message over the batch's SMTP session, opened on first use and reused (SMTP is sequential)."""
        settings = context.settings
        where = mail_relay.route(settings)
        if where == "unset":
            return SendResult.failure("BANTIN_SMTP_HOST is not set")
        data = build_email(settings, outbound)
        started = time.perf_counter()
        if where == "outbox":
            # Development without a relay: the message is kept to be read on /console/outbox.
            await asyncio.to_thread(mail_outbox.write, settings, outbound.delivery_id, data)
            return SendResult(ok=True, duration_ms=elapsed_ms(started))
        lock: asyncio.Lock = context.resources.setdefault(CONNECTION + ".lock", asyncio.Lock())
        # One SMTP session per batch, reused for every message (SMTP is sequential).
        async with lock:
            try:
                smtp = await _connection(context)
                await smtp.sendmail(sender(settings).addr_spec, [outbound.target], data)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients)).code if exc.recipients else None
                return SendResult.failure(
                    f"recipient refused: {exc}",
                    code,
                    gone=Ending.ENDED if code and code >= 500 else None,
                    duration_ms=elapsed_ms(started),
                )
            except (aiosmtplib.SMTPException, OSError) as exc:
                context.resources.pop(CONNECTION, None)
                return SendResult.failure(f"SMTP: {type(exc).__name__}: {exc}", duration_ms=elapsed_ms(started))
        return SendResult(ok=True, status_code=250, duration_ms=elapsed_ms(started))


async def _connection(context: SendContext) -> aiosmtplib.SMTP:
    smtp: aiosmtplib.SMTP | None = context.resources.get(CONNECTION)
    if smtp is not None and smtp.is_connected:
        return smtp
    settings = context.settings
    smtp = mail_relay.client(settings, settings.delivery_timeout_seconds)
    await smtp.connect()
    if settings.smtp_username:
        await smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    context.resources[CONNECTION] = smtp
    return smtp


async def close(context: SendContext) -> None:
    """Close the batch's SMTP session, if one was opened (QUIT, or drop the connection if that fails)."""
    smtp: aiosmtplib.SMTP | None = context.resources.pop(CONNECTION, None)
    if smtp is not None and smtp.is_connected:
        try:
            await smtp.quit()
        except aiosmtplib.SMTPException:
            smtp.close()
