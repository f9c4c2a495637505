"""Apprise (optional extra ``bantin[apprise]``): one URL for the long tail of services.

Apprise makes its own connections, so the egress guard can check the URL's host at
registration and before each send, but cannot pin the connection to the checked
address as the HTTP adapters do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from service.channels.base import SendContext
from service.channels.egress import EgressDenied, EgressPolicy, resolve
from service.channels.messages import OutboundMessage, SendResult
from service.channels.results import elapsed_ms
from service.channels.text import render_text
from service.errors import InvalidField


def _apprise() -> Any:
    try:
        import apprise
    except ImportError:
        return None
    return apprise


def _check_host(url: str, policy: EgressPolicy) -> None:
    host = urlsplit(url).hostname
    if host is None:
        return  # e.g. a service keyed by tokens only, with a fixed public API host
    for address in resolve(host):
        if not policy.address_allowed(address, host):
            raise EgressDenied(f"points at a non-public address ({address}); add it to BANTIN_EGRESS_ALLOW")


class AppriseChannel:
    name = "apprise"

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        apprise = _apprise()
        if apprise is None:
            raise InvalidField("channel", "apprise is not installed; install bantin[apprise]")
        target = target.strip()
        if apprise.Apprise.instantiate(target) is None:
            raise InvalidField("target", "is not an Apprise URL that Apprise understands")
        try:
            _check_host(target, policy)
        except EgressDenied as exc:
            raise InvalidField("target", str(exc)) from None
        return target

    async def send(self, context: SendContext, message: OutboundMessage) -> SendResult:
        apprise = _apprise()
        if apprise is None:
            return SendResult.failure("apprise is not installed")
        started = time.perf_counter()
        try:
            await asyncio.to_thread(_check_host, message.target, context.http.policy)
        except EgressDenied as exc:
            return SendResult.failure(f"egress denied: {exc}")
        words = render_text(message.event_type, message.payload, message.locale)
        notifier = apprise.Apprise()
        notifier.add(message.target)
        ok = await asyncio.to_thread(notifier.notify, body=words.text, title=words.subject)
        duration = elapsed_ms(started)
        return (
            SendResult(ok=True, duration_ms=duration)
            if ok
            else SendResult.failure("Apprise reported a failure", duration_ms=duration)
        )
