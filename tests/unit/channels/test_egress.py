import pytest

from service.channels.egress import EgressDenied, EgressPolicy, check_url

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
