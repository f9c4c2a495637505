"""The client's address (trusted proxies only) and the CSRF check of public forms."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from config.settings import Settings
from service.web.forms import client_address, csrf_problem, csrf_token

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_the_direct_peer_unless_a_trusted_proxy_forwards() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", PROXIES) == "203.0.113.9"  # not a proxy: header ignored
    assert client_address("10.0.0.2", "198.51.100.1", PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.2", None, PROXIES) == "10.0.0.2"


def test_the_right_most_untrusted_hop_wins_over_what_the_client_wrote() -> None:
    # The client wrote 1.2.3.4 itself; 198.51.100.1 is who connected to our first proxy.
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.3", PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.2", "garbage, 10.0.0.3", PROXIES) == "10.0.0.3"
    assert client_address("10.0.0.2", "2001:db8::1", PROXIES) == "2001:db8::1"


def _settings() -> Settings:
    return Settings(_env_file=None, base_url="https://tin.example.vn", secret_key="s" * 40)


def test_csrf_needs_the_cookie_and_its_signed_twin_from_this_site() -> None:
    settings = _settings()
    token = csrf_token(settings, "cookie-value-123456789012345", NOW)
    same = {"origin": "https://tin.example.vn"}
    assert csrf_problem(settings, same, "cookie-value-123456789012345", token, NOW) is None
    assert (
        csrf_problem(settings, {}, "cookie-value-123456789012345", token, NOW) is None
    )  # no Origin: the token decides
    assert "another site" in str(csrf_problem(settings, {"origin": "https://evil.example"}, "c", token, NOW))
    assert "another site" in str(csrf_problem(settings, {"referer": "https://evil.example/x"}, "c", token, NOW))
    assert "missing" in str(csrf_problem(settings, same, None, token, NOW))
    assert "does not match" in str(csrf_problem(settings, same, "another-cookie-value-12345678", token, NOW))
    assert "expired" in str(
        csrf_problem(settings, same, "cookie-value-123456789012345", token, NOW + timedelta(days=1))
    )


def test_a_placeholder_or_short_secret_is_refused_outside_development() -> None:
    import pytest
    from pydantic import ValidationError

    for bad in ("change-me", "short", ""):
        with pytest.raises(ValidationError, match="BANTIN_SECRET_KEY"):
            Settings(_env_file=None, environment="production", secret_key=bad)
    assert Settings(_env_file=None, environment="development", secret_key="change-me")
