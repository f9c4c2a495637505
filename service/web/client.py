"""Who the client is: one decision per request, from ``BANTIN_TRUSTED_PROXIES`` only (decision 0028).

The client is the TCP peer, unless the peer is a trusted proxy; then it is what that
proxy recorded, read from the right of ``X-Forwarded-For`` or of ``Forwarded``
(RFC 7239): the first hop, walking leftwards, that is not itself a trusted proxy.
Entries further left were written by whoever sent the request and prove nothing.

``ClientAddress`` (the outermost middleware) decides once and writes the answer into the
ASGI scope's ``client``, so everything below it (every limit, the access line and every
log line of the request, consent records) reads one address through :func:`client_of`.
Uvicorn's own proxy handling is off (``bantin api``), so nothing rewrote it before.

Two headers that name different clients cannot both come from our proxy (it writes one
of them; the client may have written the other): neither is believed and the peer is the
client. So is a proxy whose header holds only trusted hops, ``unknown``, an obfuscated
identifier (RFC 7239 §6.3) or anything that is not an IP address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"
# RFC 7239 §4: forwarded-pair = token "=" value; value = token / quoted-string. Elements
# are separated by commas, pairs within one by semicolons.
_PAIR = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;"]*)\s*([,;]|$)')
# A node with a port (RFC 7239 §6: "[2001:db8::17]:4711", "192.0.2.43:47011").
_BRACKETED = re.compile(r"^\[([^\]]+)\](?::\d+)?$")
_IPV4_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$")


def client_address(peer: str | None, headers: Iterable[tuple[bytes, bytes]], trusted: Sequence[Network]) -> str:
    """The client's IP address as text (see the module's rules), or the peer as given when it is
    not an IP address (a test client), or ``"unknown"`` without a peer (a Unix socket).

    ``headers`` are the request's raw header lines; repeated ``X-Forwarded-For`` or
    ``Forwarded`` lines are one list, in order (RFC 9110 §5.3).
    """
    if peer is None:
        return UNKNOWN
    address = _ip(peer)
    if address is None:
        return peer
    if not _trusted(address, trusted):
        return str(address)
    forwarded_for, forwarded = _header_lists(headers)
    answers = {
        found
        for hops in (_x_forwarded_for_hops(forwarded_for), _forwarded_hops(forwarded))
        if hops and (found := _first_untrusted(hops, trusted)) is not None
    }
    return answers.pop() if len(answers) == 1 else str(address)


def forwarded_scheme(
    peer: str | None, headers: Iterable[tuple[bytes, bytes]], trusted: Sequence[Network]
) -> str | None:
    """``http`` or ``https`` as the nearest trusted proxy saw the request (the right-most
    ``X-Forwarded-Proto`` or ``Forwarded`` ``proto``); None when the peer is not trusted, the
    headers say nothing or disagree."""
    address = _ip(peer) if peer is not None else None
    if address is None or not _trusted(address, trusted):
        return None
    said: set[str] = set()
    proto_lines = [value.decode("latin-1") for name, value in headers if name.lower() == b"x-forwarded-proto"]
    if proto_lines:
        said.add(", ".join(proto_lines).split(",")[-1].strip().lower())
    _, forwarded = _header_lists(headers)
    protos = [pairs["proto"] for pairs in _forwarded_elements(forwarded) if "proto" in pairs]
    if protos:
        said.add(protos[-1].lower())
    return said.pop() if len(said) == 1 and said <= {"http", "https"} else None


def client_of(request: Request) -> str:
    """The address ``ClientAddress`` decided for this request (``"unknown"`` without one)."""
    return request.client.host if request.client else UNKNOWN


class ClientAddress:
    """ASGI middleware: the scope's ``client`` (and ``scheme``) as :func:`client_address` decides."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Without trusted proxies the peer is the answer already: nothing to read per request.
        if scope["type"] in ("http", "websocket") and self.trusted:
            peer = scope.get("client")
            host = peer[0] if peer else None
            headers = scope.get("headers", [])
            client = client_address(host, headers, self.trusted)
            scope = dict(scope)
            if peer is not None and client != host:
                scope["client"] = (client, 0)  # the port is the proxy's, not the client's
            scheme = forwarded_scheme(host, headers, self.trusted)
            if scheme is not None:
                scope["scheme"] = scheme if scope["type"] == "http" else {"http": "ws", "https": "wss"}[scheme]
        await self.app(scope, receive, send)


def _header_lists(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """(X-Forwarded-For, Forwarded), each with its repeated lines joined by commas, None when absent."""
    forwarded_for: list[str] = []
    forwarded: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"x-forwarded-for":
            forwarded_for.append(value.decode("latin-1"))
        elif lowered == b"forwarded":
            forwarded.append(value.decode("latin-1"))
    return (", ".join(forwarded_for) if forwarded_for else None, ", ".join(forwarded) if forwarded else None)


def _x_forwarded_for_hops(value: str | None) -> list[str]:
    return [entry.strip() for entry in value.split(",")] if value is not None else []


def _forwarded_hops(value: str | None) -> list[str]:
    """The ``for`` of every element, in order; an element without one counts as an unknown hop."""
    return [pairs.get("for", UNKNOWN) for pairs in _forwarded_elements(value)]


def _forwarded_elements(value: str | None) -> list[dict[str, str]]:
    """RFC 7239 elements as {parameter (lower-case): value (unquoted)}; a malformed header is one
    element with nothing believable in it."""
    if value is None:
        return []
    elements: list[dict[str, str]] = [{}]
    position = 0
    while position < len(value):
        match = _PAIR.match(value, position)
        if match is None or match.end() == position:
            return [{}]
        name, raw, separator = match.groups()
        text = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') else raw
        elements[-1][name.lower()] = text.strip()
        if separator == ",":
            elements.append({})
        position = match.end()
    return elements


def _first_untrusted(hops: list[str], trusted: Sequence[Network]) -> str | None:
    """Walking from the right, the first hop that is not a trusted proxy; None when a hop on the
    way is not an IP address or every hop is trusted."""
    for hop in reversed(hops):
        address = _node_ip(hop)
        if address is None:
            return None
        if not _trusted(address, trusted):
            return str(address)
    return None


def _node_ip(node: str) -> Address | None:
    """The IP address of an RFC 7239 node or an X-Forwarded-For entry, with or without a port."""
    node = node.strip()
    bracketed = _BRACKETED.match(node)
    if bracketed:
        node = bracketed.group(1)
    else:
        with_port = _IPV4_PORT.match(node)
        if with_port:
            node = with_port.group(1)
    return _ip(node)


def _ip(value: str) -> Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # ::ffff:192.0.2.1 is the IPv4 client of a dual-stack socket: one client, one key.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)
