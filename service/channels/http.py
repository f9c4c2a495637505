"""The guarded HTTP client every outbound call goes through: deliveries and WebSub verification.

Each origin (scheme, host, port) is checked by the egress guard and resolved once per
client; the connection goes to the checked address with the Host header and TLS SNI of
the name, so a DNS answer that changes between check and connect cannot redirect us.
Redirects are never followed.

aiohttp, not httpx: on a 2-core machine httpx's async client spends several times
aiohttp's CPU per request, which capped a fan-out at about a tenth of what the
receiver could take (bench/README.md). The POSTs to subscriber URLs the guard pinned
(``post_pinned``: webhooks, chat webhooks, Web Push, WebSub) go over a leaner client of
our own beside it (``service.channels.keepalive``, decision 0047): a fan-out's CPU per
delivery was mostly aiohttp's request machinery.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from config.settings import Settings
from service.channels.egress import EgressDenied, EgressPolicy, ResolvedTarget, check_url, pinned
from service.channels.keepalive import KeepAlivePool, NoAnswer, OriginKey
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


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, with the lean client's connections beside it (``keepalive``):
    the POSTs to pinned subscriber origins go there (decision 0047), the rest through
    aiohttp; closing the session closes both."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(limit=settings.delivery_concurrency, limit_per_host=0, keepalive_timeout=30)
        self.keepalive = KeepAlivePool(
            keepalive_seconds=30,
            idle_per_origin=settings.delivery_concurrency,
            idle_total=2 * settings.delivery_concurrency,
        )

    async def close(self, *, abort_ssl: bool = False) -> None:
        self.keepalive.close()
        await super().close(abort_ssl=abort_ssl)


def new_http_session(settings: Settings) -> aiohttp.ClientSession:
    """Keep-alive connections for one process; the total timeout bounds every request."""
    timeout = aiohttp.ClientTimeout(total=settings.delivery_timeout_seconds)
    return aiohttp.ClientSession(connector=_Connector(settings), timeout=timeout)


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

    async def post_pinned(self, target: ResolvedTarget, *, content: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        """POST to a URL the guard pinned (``guard``), with ``Host`` (and TLS SNI) of its name;
        HttpFailure when there is no answer. On the lean keep-alive client when the session
        has one and the URL can go on the wire as it is; through aiohttp otherwise."""
        server_hostname = target.host if target.url.startswith("https") else None
        connector = self.session.connector
        pool = connector.keepalive if isinstance(connector, _Connector) and not self.session.closed else None
        origin = _origin_key(target, server_hostname) if pool is not None else None
        request = _request_bytes(target, content, headers) if origin is not None else None
        if pool is None or origin is None or request is None:
            merged = CIMultiDict(headers)
            merged["Host"] = target.netloc
            return await self._call("POST", target.url, content, merged, server_hostname)
        timeout = self.session.timeout.total or 300.0
        try:
            status, answer_headers, body = await pool.post(origin, request, timeout, MAX_ANSWER_BYTES)
        except NoAnswer as exc:
            raise HttpFailure(str(exc)) from None
        return HttpAnswer(status, answer_headers, body)

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


# scheme://address[:port] of a pinned target → where the lean client connects.
_ORIGIN_KEYS: dict[tuple[str, str | None], OriginKey | None] = {}


def _origin_key(target: ResolvedTarget, server_hostname: str | None) -> OriginKey | None:
    """Scheme, address, port and TLS name of a pinned target, parsed once per origin and
    name (a fan-out pins every URL of an origin to one ``origin`` string); None when the
    target has no pinned origin or is not HTTP(S)."""
    key = (target.origin, server_hostname)
    known = _ORIGIN_KEYS.get(key, False)
    if known is not False:
        return known  # type: ignore[return-value]
    parts = urlsplit(target.origin)
    origin: OriginKey | None = None
    if parts.scheme in ("http", "https") and parts.hostname and target.url.startswith(target.origin):
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            port = 0
        if port:
            origin = (parts.scheme, parts.hostname, port, server_hostname)
    if len(_ORIGIN_KEYS) > 10_000:  # bounded: origins are few, but a process lives long
        _ORIGIN_KEYS.clear()
    _ORIGIN_KEYS[key] = origin
    return origin


def _request_bytes(target: ResolvedTarget, content: bytes, headers: Mapping[str, str]) -> bytes | None:
    """The whole request, head and body, as it goes on the wire; None when the path or a
    header cannot go as written (non-ASCII or spaces in the path: aiohttp percent-encodes
    them) or a header would break the framing (a line break in a name or value)."""
    path = target.url[len(target.origin) :] or "/"
    if not (path.isascii() and path.isprintable()) or " " in path:
        return None
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
        return None  # aiohttp refuses these with a ValueError: so do we, through it
    if "User-Agent" not in headers:
        lines += "User-Agent: Bantin/1\r\n"  # aiohttp would name itself; some services refuse none
    head = f"POST {path} HTTP/1.1\r\nHost: {target.netloc}\r\n{lines}Content-Length: {len(content)}\r\n\r\n"
    return head.encode() + content


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
