from urllib.parse import urlsplit

import pytest

from service.channels.egress import EgressDenied, EgressPolicy, check_url, pinned

OPEN = EgressPolicy.parse("")
LAB = EgressPolicy.parse("127.0.0.1/32, 10.20.0.0/16, intranet.local")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://8.8.8.8/x", "https://"),
        ("https:///x", "no host"),
        ("https://u:p@8.8.8.8/x", "user name"),
        ("https://8.8.8.8:99999/x", "invalid port"),
        ("https://127.0.0.1/x", "non-public address (127.0.0.1)"),
        ("https://10.1.2.3/x", "non-public address"),
        ("https://169.254.169.254/latest/meta-data", "non-public address"),
        ("https://[::1]/x", "non-public address"),
        ("https://[fd00::1]/x", "non-public address"),
        ("https://100.64.0.1/x", "non-public address"),
        ("https://224.0.0.1/x", "non-public address"),
        ("http://8.8.8.8/x", "must use https://"),
    ],
)
def test_refused_by_default(url: str, reason: str) -> None:
    with pytest.raises(EgressDenied, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_url(url, OPEN)


def test_public_https_is_pinned_to_the_checked_address() -> None:
    target = check_url("https://8.8.8.8:8443/hook?x=1", OPEN)
    assert (target.url, target.host, str(target.address)) == ("https://8.8.8.8:8443/hook?x=1", "8.8.8.8", "8.8.8.8")


@pytest.mark.parametrize(
    ("origin", "url", "pinned_url"),
    [
        ("https://8.8.4.4", "https://8.8.4.4/a/b?x=1&y=%41#part", "https://8.8.4.4/a/b?x=1&y=%41"),
        ("https://8.8.4.4:8443", "https://8.8.4.4:8443", "https://8.8.4.4:8443/"),
        ("https://8.8.4.4", "https://8.8.4.4?only=query", "https://8.8.4.4/?only=query"),
        ("https://8.8.4.4", "https://8.8.4.4/p?", "https://8.8.4.4/p"),
        ("https://8.8.4.4", "https://8.8.4.4/Tin-tức", "https://8.8.4.4/Tin-tức"),
        (
            "https://[2001:4860:4860::8888]:9",
            "https://[2001:4860:4860::8888]:9/x?y",
            "https://[2001:4860:4860::8888]:9/x?y",
        ),
    ],
)
def test_another_url_of_a_checked_origin_keeps_its_path_and_query_and_drops_the_fragment(
    origin: str, url: str, pinned_url: str
) -> None:
    checked = check_url(f"{origin}/first", OPEN)
    target = pinned(urlsplit(url), checked)
    assert (target.url, target.netloc, target.address) == (pinned_url, urlsplit(url).netloc, checked.address)


def test_allow_list_opens_networks_and_names_and_permits_http_for_them() -> None:
    assert check_url("http://127.0.0.1:8080/hook", LAB).url == "http://127.0.0.1:8080/hook"
    assert check_url("https://10.20.3.4/hook", LAB).address.exploded == "10.20.3.4"
    with pytest.raises(EgressDenied):
        check_url("https://10.21.0.1/hook", LAB)  # outside the listed network


def test_localhost_name_resolves_and_is_refused_unless_listed() -> None:
    with pytest.raises(EgressDenied, match="non-public"):
        check_url("https://localhost/x", OPEN)
    assert check_url("http://localhost:9/x", EgressPolicy.parse("localhost")).host == "localhost"


def test_unresolvable_host_is_a_clear_error() -> None:
    with pytest.raises(EgressDenied, match="does not resolve"):
        check_url("https://no-such-host.invalid/x", OPEN)


@pytest.mark.parametrize(
    "address",
    [
        # IPv6 that carries a non-public IPv4 address, in every way IPv6 can carry one.
        "64:ff9b::a9fe:a9fe",  # NAT64 → 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 → 127.0.0.1
        "64:ff9b:1::a00:1",  # NAT64 local use → 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 → 169.254.169.254
        "2002:7f00:1::",  # 6to4 → 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible → 169.254.169.254
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:0:a00:1",  # IPv4-translated → 10.0.0.1
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
        "2001:0:a00:1:8000:63bf:3fff:fdd2",  # Teredo, server 10.0.0.1
        # IANA special-purpose ranges that Python's is_global does not all catch.
        "2001:db8::1",
        "3fff::1",
        "100::1",
        "5f00::1",
        "2001:2::1",
        "2620:4f:8000::1",
        "fec0::1",
        "ff02::1",
        "4000::1",
        "::",
    ],
)
def test_ipv6_special_purpose_and_carried_ipv4_are_refused(address: str) -> None:
    with pytest.raises(EgressDenied, match="non-public"):
        check_url(f"https://[{address}]/h", OPEN)


@pytest.mark.parametrize(
    "address",
    [
        "0.1.2.3",
        "192.0.0.9",
        "192.0.2.1",
        "192.31.196.1",
        "192.52.193.1",
        "192.88.99.1",
        "192.175.48.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "240.0.0.1",
        "255.255.255.255",
    ],
)
def test_ipv4_special_purpose_ranges_are_refused(address: str) -> None:
    with pytest.raises(EgressDenied, match="non-public"):
        check_url(f"https://{address}/h", OPEN)


@pytest.mark.parametrize(
    "address",
    [
        "2606:4700:4700::1111",  # ordinary global unicast
        "64:ff9b::808:808",  # NAT64 → 8.8.8.8
        "2002:808:808::1",  # 6to4 → 8.8.8.8
        "::ffff:8.8.8.8",
    ],
)
def test_ipv6_public_or_carrying_a_public_ipv4_is_accepted(address: str) -> None:
    assert check_url(f"https://[{address}]/h", OPEN).address.version == 6


def test_carried_ipv4_is_allowed_when_its_network_is_listed() -> None:
    assert check_url("https://[64:ff9b::7f00:1]/h", LAB).host == "64:ff9b::7f00:1"
    with pytest.raises(EgressDenied):
        check_url("https://[64:ff9b::a9fe:a9fe]/h", LAB)
