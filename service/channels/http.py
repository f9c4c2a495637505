"""The guarded HTTP client every outbound call goes through: deliveries and WebSub verification.

Each origin (scheme, host, port) is checked by the egress guard and resolved once per
client; the connection goes to the checked address with the Host header and TLS SNI of
the name, so a DNS answer that changes between check and connect cannot redirect us.
Redirects are never followed.

aiohttp, not httpx: on a 2-core machine httpx's async client spends several times
aiohttp's CPU per request, which capped a fan-out at about a tenth of what the
receiver could take (bench/README.md).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from config.settings import Settings
from service.channels.egress import EgressDenied, EgressPolicy, ResolvedTarget, check_url, pinned
from service.json_input import parse_json


@dataclass(frozen=True)
class HttpAnswer:
    """What came back from an HTTP call, independent of the client library."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8, undecodable bytes replaced."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON within ``service.json_input``'s bounds (a receiver's answer is
        outside input); ValueError (JsonRefused) when it is not UTF-8 JSON or is nested too deeply."""
        return parse_json(self.body)


# What we read of an answer at most: enough for any API's JSON verdict and an error text;
# a receiver that streams more cannot make a worker hold it in memory.
MAX_ANSWER_BYTES = 1 << 20


class HttpFailure(Exception):
    """No answer: timed out, refused, reset. The message is short and carries no secret."""


def new_http_session(settings: Settings) -> aiohttp.ClientSession:
    """Keep-alive connections for one process; the total timeout bounds every request."""
    connector = aiohttp.TCPConnector(limit=settings.delivery_concurrency, limit_per_host=0, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(total=settings.delivery_timeout_seconds)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


@dataclass
class GuardedHttp:
    """An aiohttp session behind the egress guard, with a per-client cache of checked origins."""

    session: aiohttp.ClientSession
    policy: EgressPolicy
    _origins: dict[tuple[str, str, int | None], ResolvedTarget | EgressDenied] = field(default_factory=dict)
    _resolving: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def guard(self, url: str) -> ResolvedTarget:
        """Check a subscriber-supplied URL, resolving each origin once; raises EgressDenied."""
        # Split once: the origin is looked up and the pinned URL built from the same parts.
        parts = urlsplit(url.strip())
        try:
            origin = (parts.scheme, parts.hostname or "", parts.port)
        except ValueError:
            raise EgressDenied("invalid_port") from None
        checked = self._origins.get(origin)
        if checked is None:
            async with self._resolving:
                checked = self._origins.get(origin)
                if checked is None:
                    try:
                        checked = await asyncio.to_thread(check_url, url, self.policy)
                    except EgressDenied as exc:
                        checked = exc
                    self._origins[origin] = checked
        if isinstance(checked, EgressDenied):
            raise checked
        return pinned(parts, checked)

    async def post(
        self, url: str, *, content: bytes, headers: Mapping[str, str], server_hostname: str | None = None
    ) -> HttpAnswer:
        """POST without following redirects; HttpFailure when there is no answer."""
        return await self._call("POST", url, content, headers, server_hostname)

    async def post_json(
        self, url: str, document: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> HttpAnswer:
        """POST ``document`` as UTF-8 JSON to an operator-configured API (Telegram, Zalo)."""
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return await self.post(url, content=body, headers={"Content-Type": "application/json", **(headers or {})})

    async def call(
        self, method: str, url: str, *, content: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpAnswer:
        """Any method to an operator-configured API (the Graph API's GET, POST and DELETE),
        without following redirects; HttpFailure when there is no answer."""
        return await self._call(method, url, content, headers or {}, None)

    async def get_guarded(self, url: str, *, headers: Mapping[str, str], max_bytes: int) -> HttpAnswer:
        """GET a subscriber-supplied URL through the guard, reading at most ``max_bytes`` of
        the body; EgressDenied or HttpFailure when it cannot be called or does not answer."""
        target = await self.guard(url)
        server_hostname = target.host if target.url.startswith("https") else None
        return await self._call("GET", target.url, None, {**headers, "Host": target.netloc}, server_hostname, max_bytes)

    async def _call(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
        server_hostname: str | None,
        max_bytes: int = MAX_ANSWER_BYTES,
    ) -> HttpAnswer:
        try:
            async with self.session.request(
                method,
                url,
                data=content,
                headers=headers,
                allow_redirects=False,
                server_hostname=server_hostname,
            ) as response:
                body = await _read(response, max_bytes)
                # The response's own headers: read-only and case-insensitive already.
                return HttpAnswer(response.status, response.headers, body)
        except TimeoutError:
            raise HttpFailure("timed out") from None
        except (aiohttp.ClientError, ValueError) as exc:
            # ValueError: yarl or aiohttp refusing a URL or header value they cannot send.
            raise HttpFailure(type(exc).__name__) from None


async def _read(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body up to its end or ``max_bytes``, whichever comes first (one ``read`` returns
    only what has arrived so far)."""
    if response.content.at_eof():
        return b""  # no body (a 204, Content-Length: 0): nothing to await
    chunks: list[bytes] = []
    size = 0
    while size < max_bytes:
        chunk = await response.content.read(max_bytes - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
