"""Outbound guard for every URL a subscriber or admin supplies (SSRF protection).

https only and public addresses only (``addresses.is_public``: outside every IANA
special-purpose range), unless ``BANTIN_EGRESS_ALLOW`` lists the host
or a network containing its address; http:// only for allow-listed targets. Checked
at registration and again at connect time: the name is resolved once, the address
checked, and the connection made to that address (Host header and TLS SNI keep the
name), so a DNS answer that changes between check and connect cannot redirect us.
Redirects are never followed. Before any of that, the text itself: at most
MAX_URL_LENGTH characters, none that RFC 3986 forbids, no spaces, controls or
invisible format characters, and no percent-encoded control characters.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from service.channels.addresses import IPAddress, carried_ipv4, is_public
from service.errors import english

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# A webhook or callback URL has no need for more; every server and proxy takes this much
# (RFC 9110 §4.1 asks servers to support at least 8,000 octets).
MAX_URL_LENGTH = 2048
# Characters RFC 3986 never allows in a URL, even where non-ASCII text (RFC 3987) is fine.
FORBIDDEN_CHARACTERS = frozenset('<>"{}|\\^`')
# Percent-encoded control characters: a URL that carries them is an attack, not an address.
ENCODED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff]|[cC][2]%[89][0-9A-Fa-f])")
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class EgressDenied(ValueError):
    """The URL may not be called: ``code`` (a key of ``service.errors.ENGLISH``) and ``params``
    say why, for a 422 (``InvalidField(field, code, **params)``); the message is the English,
    for a delivery error."""

    def __init__(self, code: str, /, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(english(code, params))


@dataclass(frozen=True)
class EgressPolicy:
    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, allow: str) -> EgressPolicy:
        """The policy of ``BANTIN_EGRESS_ALLOW``: comma-separated networks (CIDR or addresses) and host names."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in allow.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def host_listed(self, host: str) -> bool:
        """Whether the host name is allowed by name (case and a trailing dot ignored)."""
        return host.lower().rstrip(".") in self.hosts

    def address_allowed(self, address: IPAddress, host: str) -> bool:
        """Listed (by host name or network), or public; an IPv6 address that carries an
        IPv4 address is judged by the IPv4 address(es) it carries."""
        if self.host_listed(host) or self.network_listed(address):
            return True
        carried = carried_ipv4(address)
        if carried:
            return all(self.network_listed(a) or is_public(a) for a in carried)
        return is_public(address)

    def network_listed(self, address: IPAddress) -> bool:
        """Whether the address is in one of the allowed networks."""
        return any(address in network for network in self.networks)

    def target_listed(self, host: str, addresses: list[IPAddress]) -> bool:
        """Listed explicitly (host name or every address in an allowed network): http:// is fine."""
        if self.host_listed(host):
            return True
        return bool(addresses) and all(any(a in n for n in self.networks) for a in addresses)


@lru_cache(maxsize=4)
def policy_for(allow: str) -> EgressPolicy:
    """The parsed policy of an allow setting, cached."""
    return EgressPolicy.parse(allow)


@dataclass(frozen=True)
class ResolvedTarget:
    url: str  # the URL with the checked address in place of the host name
    host: str  # for TLS SNI and certificate matching
    netloc: str  # for the Host header: the name and port as the subscriber wrote them
    address: IPAddress
    # scheme://address[:port]: another URL of this origin is pinned by appending its path and query.
    origin: str = ""


def resolve(host: str) -> list[IPAddress]:
    """The host's addresses (an IP literal as itself), in resolver order without repeats.

    Raises EgressDenied when the name does not resolve.
    """
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise EgressDenied("unresolved", host=host, reason=exc.strerror) from None
    seen: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


def check_url(url: str, policy: EgressPolicy) -> ResolvedTarget:
    """Validate ``url`` and pick the address to connect to; EgressDenied says why not."""
    url = url.strip()
    _check_text(url)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise EgressDenied("not_https_url")
    if not parts.hostname:
        raise EgressDenied("no_host")
    if parts.username or parts.password:
        raise EgressDenied("credentials")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise EgressDenied("invalid_port") from None
    host = parts.hostname
    addresses = resolve(host)
    denied = [a for a in addresses if not policy.address_allowed(a, host)]
    if denied:
        raise EgressDenied("non_public", address=str(denied[0]))
    if parts.scheme == "http" and not policy.target_listed(host, addresses):
        raise EgressDenied("http_not_allowed")
    address = addresses[0]
    origin = _pinned_origin(parts.scheme, address, parts.port)
    return ResolvedTarget(_with_origin(origin, parts), host, _netloc(parts), address, origin)


def _check_text(url: str) -> None:
    """Length and characters, before anything parses the URL."""
    if len(url) > MAX_URL_LENGTH:
        raise EgressDenied("longer_than", limit=MAX_URL_LENGTH)
    for character in url:
        # Cc control, Cf format (bidi overrides, zero-width), Z* spaces and separators.
        if character in FORBIDDEN_CHARACTERS or unicodedata.category(character)[0] in "CZ":
            raise EgressDenied("url_character", character=character)
    if BAD_PERCENT.search(url):
        raise EgressDenied("bad_percent")
    if ENCODED_CONTROL.search(url):
        raise EgressDenied("encoded_control")


def pinned(parts: SplitResult, checked: ResolvedTarget) -> ResolvedTarget:
    """Another URL (split by the caller) of an origin (scheme, host, port) already checked:
    same address, its own path and query."""
    return ResolvedTarget(
        _with_origin(checked.origin, parts), checked.host, _netloc(parts), checked.address, checked.origin
    )


def _netloc(parts: SplitResult) -> str:
    return parts.netloc.rsplit("@", 1)[-1]


def _pinned_origin(scheme: str, address: IPAddress, port: int | None) -> str:
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{port}" if port else literal
    return urlunsplit((scheme, netloc, "", "", ""))


def _with_origin(origin: str, parts: SplitResult) -> str:
    """``urlunsplit`` of ``parts`` with ``origin`` for scheme and host, without user info or
    fragment; the origin's part is made once per checked origin, not once per URL (a
    fan-out pins every subscriber's URL of one origin)."""
    url = origin + (parts.path or "/")
    return f"{url}?{parts.query}" if parts.query else url
