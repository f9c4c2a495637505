"""Who the client is (decision 0028): the peer, or what a trusted proxy recorded, walked from
the right of X-Forwarded-For or Forwarded (RFC 7239); everything else is ignored."""

from __future__ import annotations

import ipaddress

from starlette.types import Message, Receive, Scope, Send

from service.web.client import ClientAddress, client_address, forwarded_scheme

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ff::/48"))


def headers(*lines: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode("latin-1")) for name, value in lines]


def xff(value: str) -> list[tuple[bytes, bytes]]:
    return headers(("X-Forwarded-For", value))


def fwd(value: str) -> list[tuple[bytes, bytes]]:
    return headers(("Forwarded", value))


def test_an_untrusted_peer_is_the_client_whatever_it_says() -> None:
    for said in (xff("198.51.100.1"), fwd("for=198.51.100.1"), [*xff("1.1.1.1"), *fwd("for=1.1.1.1")]):
        assert client_address("203.0.113.9", said, PROXIES) == "203.0.113.9"
    # Nothing trusted at all (the default): every header is the client's own words.
    assert client_address("10.0.0.2", xff("198.51.100.1"), ()) == "10.0.0.2"


def test_a_trusted_proxy_names_the_client_and_without_a_header_is_the_client() -> None:
    assert client_address("10.0.0.2", xff("198.51.100.1"), PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.2", fwd("for=198.51.100.1;proto=https"), PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_the_right_most_untrusted_hop_wins_over_what_the_client_wrote() -> None:
    # The client wrote 1.2.3.4 itself; 198.51.100.1 is who connected to our first proxy.
    assert client_address("10.0.0.2", xff("1.2.3.4, 198.51.100.1, 10.0.0.3"), PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.2", fwd("for=1.2.3.4, for=198.51.100.1, for=10.0.0.3"), PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.2", xff("2001:db8::1"), PROXIES) == "2001:db8::1"
    assert client_address("10.0.0.2", xff("garbage, 198.51.100.1"), PROXIES) == "198.51.100.1"
    assert client_address("2001:db8:ff::2", xff("192.0.2.60, 2001:db8:ff::9"), PROXIES) == "192.0.2.60"


def test_repeated_header_lines_are_one_list_in_order() -> None:
    """RFC 9110 §5.3: a second line continues the first; its entries are nearer to us."""
    lines = headers(("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-For", "198.51.100.1, 10.0.0.3"))
    assert client_address("10.0.0.2", lines, PROXIES) == "198.51.100.1"
    lines = headers(("Forwarded", "for=1.2.3.4"), ("Forwarded", "for=198.51.100.7"))
    assert client_address("10.0.0.2", lines, PROXIES) == "198.51.100.7"


def test_rfc_7239_nodes_with_quotes_brackets_and_ports() -> None:
    """RFC 7239 §6: IPv6 in brackets and quotes, ports, case-insensitive parameter names."""
    cases = {
        'for="[2001:db8:cafe::17]:4711"': "2001:db8:cafe::17",
        'For="[2001:db8:cafe::17]"': "2001:db8:cafe::17",
        "for=192.0.2.43:47011": "192.0.2.43",
        'for="192.0.2.43:47011";by=10.0.0.2': "192.0.2.43",
        'proto=https;for="198.51.100.17" , for=10.0.0.9': "198.51.100.17",
    }
    for value, client in cases.items():
        assert client_address("10.0.0.2", fwd(value), PROXIES) == client, value
    assert client_address("10.0.0.2", xff("[2001:db8::5]:443, 192.0.2.8:8080"), PROXIES) == "192.0.2.8"


def test_what_cannot_be_an_address_leaves_the_peer_as_the_client() -> None:
    """Garbage, ``unknown``, obfuscated identifiers (RFC 7239 §6.3), a malformed header, or only
    trusted hops: the proxy vouches for no client, so the proxy is the client."""
    for said in (
        xff("198.51.100.1, garbage"),  # the hop next to ours is garbage: nothing beyond it counts
        xff("198.51.100.1, garbage, 10.0.0.3"),
        xff("10.0.0.3, 10.0.0.4"),
        xff(""),
        fwd("for=unknown"),
        fwd("for=_hidden, for=10.0.0.3"),
        fwd('for="198.51.100.1'),  # an unterminated quote
        fwd("by=10.0.0.3"),  # an element without "for"
        fwd("for=198.51.100.1;;;=x"),
    ):
        assert client_address("10.0.0.2", said, PROXIES) == "10.0.0.2", said


def test_two_headers_naming_different_clients_are_both_disbelieved() -> None:
    """Our proxy wrote one of them and the client may have written the other: believing either
    would let a client choose its address, so both collapse to the proxy."""
    spoofed = [*xff("203.0.113.5, 198.51.100.1"), *fwd("for=192.0.2.99")]
    assert client_address("10.0.0.2", spoofed, PROXIES) == "10.0.0.2"
    agreeing = [*xff("198.51.100.1"), *fwd("for=198.51.100.1")]
    assert client_address("10.0.0.2", agreeing, PROXIES) == "198.51.100.1"
    # A header that names nobody (only trusted hops) does not contradict the other one.
    assert client_address("10.0.0.2", [*xff("10.0.0.7"), *fwd("for=198.51.100.1")], PROXIES) == "198.51.100.1"


def test_peers_that_are_not_ip_addresses() -> None:
    assert client_address(None, xff("198.51.100.1"), PROXIES) == "unknown"  # a Unix socket
    assert client_address("testclient", xff("198.51.100.1"), PROXIES) == "testclient"
    # A dual-stack socket's IPv4 peer is the IPv4 client, as a trusted proxy and as a client.
    assert client_address("::ffff:10.0.0.2", xff("198.51.100.1"), PROXIES) == "198.51.100.1"
    assert client_address("::ffff:203.0.113.9", [], PROXIES) == "203.0.113.9"


def test_the_scheme_is_the_nearest_trusted_proxy_s() -> None:
    assert forwarded_scheme("10.0.0.2", headers(("X-Forwarded-Proto", "https")), PROXIES) == "https"
    assert forwarded_scheme("10.0.0.2", headers(("X-Forwarded-Proto", "http, https")), PROXIES) == "https"
    assert forwarded_scheme("10.0.0.2", fwd("for=1.2.3.4;proto=http, for=10.0.0.3;proto=HTTPS"), PROXIES) == "https"
    assert forwarded_scheme("203.0.113.9", headers(("X-Forwarded-Proto", "https")), PROXIES) is None
    assert forwarded_scheme("10.0.0.2", headers(("X-Forwarded-Proto", "gopher")), PROXIES) is None
    both = [*headers(("X-Forwarded-Proto", "https")), *fwd("proto=http")]
    assert forwarded_scheme("10.0.0.2", both, PROXIES) is None


async def _seen(middleware: ClientAddress, scope: Scope) -> Scope:
    seen: dict[str, Scope] = {}

    async def app(inner: Scope, receive: Receive, send: Send) -> None:
        seen["scope"] = inner

    async def receive() -> Message:
        return {"type": "http.request"}

    async def send(message: Message) -> None:
        return None

    middleware.app = app
    await middleware(scope, receive, send)
    return seen["scope"]


def test_the_middleware_writes_the_decision_into_the_scope() -> None:
    import asyncio

    async def noop(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    scope: Scope = {
        "type": "http",
        "scheme": "http",
        "client": ("10.0.0.2", 51000),
        "headers": [*xff("1.2.3.4, 198.51.100.1"), *headers(("X-Forwarded-Proto", "https"))],
    }
    inner = asyncio.run(_seen(ClientAddress(noop, PROXIES), scope))
    assert inner["client"] == ("198.51.100.1", 0) and inner["scheme"] == "https"
    assert scope["client"] == ("10.0.0.2", 51000)  # the caller's scope is not changed
    untrusted = asyncio.run(_seen(ClientAddress(noop, PROXIES), {**scope, "client": ("203.0.113.9", 4000)}))
    assert untrusted["client"] == ("203.0.113.9", 4000) and untrusted["scheme"] == "http"
