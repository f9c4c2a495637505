"""The CSRF check of public forms (the client's address: tests/unit/web/test_client_address.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.settings import Settings
from service.web.forms import csrf_problem, csrf_token

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


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
