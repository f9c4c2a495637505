"""Apprise (optional extra ``bantin[apprise]``): one URL for the long tail of services.

A target may hold several Apprise URLs (separated by spaces or commas, as Apprise
itself splits them). Each is parsed by Apprise's own machinery, and for each service
the host it will really call is checked:

- a service whose URL names a host (``json://``, ``ntfy://host``, ``mailto://`` and its
  ``smtp=`` server ...) is checked by the egress guard like any subscriber URL;
- a service keyed by tokens (``slack://T…/B…/…``, ``discord://id/token``) calls the fixed
  public API hosts its plugin declares (hooks.slack.com, discord.com), which need no check;
- anything else (desktop notifications, a service whose host Bantin cannot tell, a word
  Apprise does not understand) is refused.

The same checked service objects are the ones notified, so what was checked is what is
called. Apprise makes its own connections: the guard checks the address before each
send but cannot pin the connection to it as the HTTP adapters do.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from service.announcements.message import Medium
from service.channels.base import SendContext
from service.channels.egress import EgressDenied, EgressPolicy, resolve
from service.channels.messages import OutboundMessage, SendResult
from service.channels.results import elapsed_ms
from service.channels.text import Words, fit
from service.errors import InvalidField

# Class attributes that point at documentation, not at a host the plugin calls.
DOCUMENTATION_ATTRIBUTES = frozenset({"service_url", "setup_url"})
MAX_URLS = 10


def _apprise() -> Any:
    try:
        import apprise
    except ImportError:
        return None
    return apprise


def checked_services(apprise: Any, target: str, policy: EgressPolicy) -> list[Any]:
    """Every Apprise service ``target`` expands to, each checked; EgressDenied says which is refused."""
    # Apprise's own splitting (spaces, commas, semicolons, lines), as Apprise.add() does it.
    urls = importlib.import_module("apprise.utils.parse").parse_urls(target)
    if not urls:
        raise EgressDenied("apprise_none")
    if len(urls) > MAX_URLS:
        raise EgressDenied("apprise_too_many", count=len(urls), limit=MAX_URLS)
    services = []
    for url in urls:
        service = apprise.Apprise.instantiate(url)
        if service is None:
            raise EgressDenied("apprise_unknown", url=_redacted(url))
        for host in called_hosts(service):
            _check_host(host, policy)
        services.append(service)
    return services


def called_hosts(service: Any) -> list[str]:
    """The host names an Apprise service will connect to; user-given ones first.

    EgressDenied when Bantin cannot tell (a service without a host and without a fixed API).
    """
    smtp_host = getattr(service, "smtp_host", None)
    if smtp_host:  # mailto://: the SMTP server (its smtp= parameter, or the provider's)
        return [str(smtp_host)]
    plugin = type(service)
    if "host" in getattr(plugin, "template_tokens", {}) and getattr(service, "host", None):
        return [str(service.host).strip("[]")]  # an IPv6 literal comes bracketed
    fixed = {
        urlsplit(value).netloc
        for cls in plugin.__mro__
        for name, value in vars(cls).items()
        if name not in DOCUMENTATION_ATTRIBUTES and isinstance(value, str) and value.startswith(("https://", "http://"))
    }
    # No API URL at all (desktop, syslog, cloud SDKs), or one whose host is filled in from
    # the subscriber's URL ("https://{host}/…", "https://{org}.{hostname}/…"): unknowable.
    if not fixed or any("{" in netloc for netloc in fixed):
        raise EgressDenied("apprise_host_unknown", service=str(getattr(service, "service_name", plugin.__name__)))
    return []  # only the plugin's own public API hosts: constants of the library, not subscriber input


def _check_host(host: str, policy: EgressPolicy) -> None:
    for address in resolve(host):
        if not policy.address_allowed(address, host):
            raise EgressDenied("apprise_non_public", address=str(address))


def _notify(apprise: Any, service: Any, words: Words) -> bool:
    """One service: the plain text cut to the service's own limits first (Apprise then
    formats it); Apprise's truncation only as a net, unless the URL chose an overflow mode."""
    body_limit, title_limit = int(service.body_maxlen or 0), int(service.title_maxlen or 0)
    if title_limit <= 0:  # a service without titles: Apprise puts the title above the body
        body_limit -= len(words.subject) + 2
    body = fit(words, max(body_limit, 1)).text if service.body_maxlen else words.text
    title = words.subject[: max(title_limit - 1, 0)] + "…" if 0 < title_limit < len(words.subject) else words.subject
    if service.overflow_mode == apprise.common.OverflowMode.UPSTREAM:
        service.overflow_mode = apprise.common.OverflowMode.TRUNCATE
    return bool(service.notify(body=body, title=title))


def _redacted(url: str) -> str:
    """The scheme only: an Apprise URL carries its tokens in every other part."""
    return url.split("://", 1)[0] + "://…" if "://" in url else url[:20]


class AppriseChannel:
    name = "apprise"
    medium = Medium.TEXT

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The Apprise URL(s), stripped; InvalidField when Apprise is not installed, or when
        ``checked_services`` refuses them (no URL Apprise understands, too many, a host not allowed).
        """
        apprise = _apprise()
        if apprise is None:
            raise InvalidField("channel", "apprise_missing")
        target = target.strip()
        try:
            checked_services(apprise, target, policy)
        except EgressDenied as exc:
            raise InvalidField("target", exc.code, **exc.params) from None
        return target

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """Notify every service of the Apprise URL (hosts checked again), each with text fitted to its limits."""
        apprise = _apprise()
        if apprise is None:
            return SendResult.failure("apprise is not installed")
        started = time.perf_counter()
        try:
            services = await asyncio.to_thread(checked_services, apprise, outbound.target, context.http.policy)
        except EgressDenied as exc:
            return SendResult.failure(f"egress denied: {exc}")
        words = outbound.message
        # The very service objects checked above, each told its own, fitted, words.
        sent = [await asyncio.to_thread(_notify, apprise, service, words) for service in services]
        ok = all(sent)
        duration = elapsed_ms(started)
        return (
            SendResult(ok=True, duration_ms=duration)
            if ok
            else SendResult.failure("Apprise reported a failure", duration_ms=duration)
        )
