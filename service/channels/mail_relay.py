"""Where mail goes, and whether it can go: mail never fails in silence (issue 20 §2).

- ``BANTIN_SMTP_HOST`` set: the relay. The API process checks it at start and every
  ``CHECK_SECONDS`` (connect, EHLO, STARTTLS or TLS as configured, log in when a user
  is set, QUIT): a relay that cannot be reached is a warning in the log, a banner on
  the admin's dashboard, and the public sign-up form says e-mail is unavailable.
- unset outside production: the development outbox (``mail_outbox``), never a failure.
- unset in production: the same warning, banner and form as a failing relay.

The last check is kept per process (``current()``); pages read it and never wait for
a relay. Decision 0038.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from config.settings import Settings

log = logging.getLogger(__name__)
CHECK_SECONDS = 60.0
# A check gives up sooner than a delivery: it only asks whether the relay answers.
CHECK_TIMEOUT_SECONDS = 5.0

Route = Literal["smtp", "outbox", "unset"]
State = Literal["ok", "outbox", "unset", "failing", "unknown"]


def route(settings: Settings) -> Route:
    """How this process sends mail: over SMTP, into the development outbox, or not at all."""
    if settings.smtp_host:
        return "smtp"
    return "unset" if settings.environment == "production" else "outbox"


@dataclass(frozen=True)
class RelayHealth:
    """The last check: ``state`` and, for ``failing``, what went wrong (English, for the log
    and the admin); ``checked_at`` in epoch seconds (0 before the first check)."""

    state: State
    detail: str = ""
    checked_at: float = 0.0

    @property
    def accepts_mail(self) -> bool:
        """Whether a mail sent now is expected to leave (or reach the outbox): the sign-up form asks."""
        return self.state in ("ok", "outbox", "unknown")


_current = RelayHealth("unknown")


def current() -> RelayHealth:
    """This process's last check (``unknown`` before the first one: a form is not refused on a guess)."""
    return _current


async def check(settings: Settings) -> RelayHealth:
    """Check the relay (see the module), keep the result for ``current()`` and log a warning
    when mail cannot go, once per change of state or detail."""
    global _current
    where = route(settings)
    if where == "outbox":
        health = RelayHealth("outbox", str(settings.var_dir / "outbox"), time.time())
    elif where == "unset":
        health = RelayHealth("unset", "BANTIN_SMTP_HOST is not set", time.time())
    else:
        problem = await _probe(settings)
        health = RelayHealth("failing" if problem else "ok", problem or "", time.time())
    previous, _current = _current, health
    if (previous.state, previous.detail) != (health.state, health.detail):
        if health.state in ("unset", "failing"):
            log.warning("mail cannot be sent (%s): readers cannot sign up by e-mail; %s", health.state, health.detail)
        elif health.state == "outbox":
            log.info("no SMTP relay: mail is kept in the development outbox %s (/console/outbox)", health.detail)
        elif previous.state == "failing":
            log.info("the mail relay answers again")
    return health


def client(settings: Settings, timeout: float) -> aiosmtplib.SMTP:
    """An SMTP client for the configured relay (not connected yet): TLS or STARTTLS as
    ``BANTIN_SMTP_SECURITY`` says, verified against ``BANTIN_SMTP_CA_FILE`` when set."""
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        timeout=timeout,
        cert_bundle=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
    )


async def _probe(settings: Settings) -> str | None:
    """None when the relay accepts a session (and the login), else what went wrong."""
    smtp = client(settings, min(CHECK_TIMEOUT_SECONDS, settings.delivery_timeout_seconds))
    try:
        await smtp.connect()
        if settings.smtp_username:
            await smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError) as exc:
        smtp.close()
        return f"{settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}"[:300]
    return None


def forget() -> None:
    """Back to ``unknown`` (tests that start several apps in one process)."""
    global _current
    _current = RelayHealth("unknown")
