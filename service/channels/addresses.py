"""Which IP addresses are public: a deny-list of every IANA special-purpose range.

Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and the
RFCs each entry names), plus multicast (RFC 5771, RFC 4291) and, for IPv6, anything
outside 2000::/3, the only block IANA allocates as global unicast. Python's
``is_global`` alone is not enough: it calls 64:ff9b::/96 (NAT64) global, although
such an address reaches whatever IPv4 address it carries.

IPv6 addresses that carry an IPv4 address (NAT64, 6to4, IPv4-compatible, IPv4-mapped,
IPv4-translated, Teredo) are judged by the IPv4 address(es) they carry.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SPECIAL_IPV4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network" (RFC 791)
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # shared address space, carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback (RFC 1122)
        "169.254.0.0/16",  # link-local, cloud metadata (RFC 3927)
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890), incl. DS-Lite, NAT64 discovery
        "192.0.2.0/24",  # documentation TEST-NET-1 (RFC 5737)
        "192.31.196.0/24",  # AS112-v4 (RFC 7535)
        "192.52.193.0/24",  # AMT (RFC 7450)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526)
        "192.168.0.0/16",  # private (RFC 1918)
        "192.175.48.0/24",  # direct delegation AS112 service (RFC 7534)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",  # documentation TEST-NET-2 (RFC 5737)
        "203.0.113.0/24",  # documentation TEST-NET-3 (RFC 5737)
        "224.0.0.0/4",  # multicast (RFC 5771)
        "240.0.0.0/4",  # reserved (RFC 1112), includes 255.255.255.255 limited broadcast
    )
)

SPECIAL_IPV6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/128",  # unspecified (RFC 4291)
        "::1/128",  # loopback (RFC 4291)
        "100::/64",  # discard-only (RFC 6666)
        "100:0:0:1::/64",  # dummy IPv6 prefix (RFC 9780)
        "2001::/23",  # IETF protocol assignments (RFC 2928): benchmarking, ORCHID, AMT, AS112 ...
        "2001:db8::/32",  # documentation (RFC 3849)
        "2620:4f:8000::/48",  # direct delegation AS112 service (RFC 7534)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing SIDs (RFC 9602)
        "fc00::/7",  # unique local (RFC 4193)
        "fe80::/10",  # link-local (RFC 4291)
        "fec0::/10",  # deprecated site-local (RFC 3879)
        "ff00::/8",  # multicast (RFC 4291)
    )
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")

# Ranges whose last 32 bits are an IPv4 address; the range itself is judged by that address.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215, local use
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291 §2.5.5.1)
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # RFC 4291 §2.5.5.2
IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)
LAST_32_BITS = (NAT64, IPV4_COMPATIBLE, IPV4_MAPPED, IPV4_TRANSLATED)
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")  # RFC 3056: IPv4 in bits 16-47
TEREDO = ipaddress.IPv6Network("2001::/32")  # RFC 4380: server and (inverted) client IPv4


def carried_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 address(es) an IPv6 address carries, or () when it carries none.

    NAT64 local-use (64:ff9b:1::/48) may place the IPv4 address at any RFC 6052 prefix
    length from /48 on; every reading is returned, so it passes only if all are public.
    """
    if address.version == 4:
        return ()
    assert isinstance(address, ipaddress.IPv6Address)
    value = int(address)
    if any(address in network for network in LAST_32_BITS):
        return (ipaddress.IPv4Address(value & 0xFFFFFFFF),)
    if address in SIX_TO_FOUR:
        return (ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF),)
    if address in TEREDO:
        server, client = address.teredo or (None, None)
        return tuple(a for a in (server, client) if a is not None)
    if address in NAT64_LOCAL:
        return tuple(_rfc6052(value, length) for length in (48, 56, 64, 96))
    return ()


def _rfc6052(value: int, prefix_length: int) -> ipaddress.IPv4Address:
    """The IPv4 address at an RFC 6052 §2.2 position: bits 64-71 (the "u" octet) are skipped."""
    octets = value.to_bytes(16, "big")
    start = prefix_length // 8
    carried = [b for i, b in enumerate(octets[start:], start) if i != 8][:4]
    return ipaddress.IPv4Address(bytes(carried))


def is_public(address: IPAddress) -> bool:
    """True for an address outside every special-purpose range (judging carried IPv4 too)."""
    carried = carried_ipv4(address)
    if carried:
        return all(is_public(a) for a in carried)
    if address.version == 4:
        return not any(address in network for network in SPECIAL_IPV4)
    return address in GLOBAL_UNICAST_V6 and not any(address in network for network in SPECIAL_IPV6)
