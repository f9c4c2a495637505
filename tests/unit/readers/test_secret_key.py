"""A fresh development start never runs with a known secret (issue 18 item 10, decision 0028):
it generates ``var/secret_key`` (0600) and a preferences link signed with "change-me" opens nothing."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config.settings import get_settings
from service import links
from service.announcements.links import PREFERENCES, preferences_url
from service.api.app import create_app
from service.db.types import utcnow
from tests.unit.readers.test_reader_pages import _confirmed


@pytest.fixture
def fresh_start(settings_override: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """``make run`` on a new machine: development, no BANTIN_SECRET_KEY, an empty var dir."""
    settings_override.setenv("BANTIN_ENVIRONMENT", "development")
    settings_override.delenv("BANTIN_SECRET_KEY")
    settings_override.setenv("BANTIN_VAR_DIR", str(tmp_path / "var"))
    yield tmp_path / "var"


def test_a_link_signed_with_the_old_placeholder_is_refused_on_a_fresh_start(fresh_start: Path) -> None:
    with TestClient(create_app(), base_url="https://testserver", follow_redirects=False) as web:
        secret_file = fresh_start / "secret_key"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = get_settings().secret_key.get_secret_value()
        assert secret == secret_file.read_text().strip() and len(secret) == 64 and secret != "change-me"

        subscription = _confirmed(web, "ban.doc@example.vn")
        base = get_settings().base_url
        genuine = preferences_url(get_settings(), subscription.id, utcnow()).removeprefix(base)
        assert web.get(genuine).status_code == 200
        for known in ("change-me", ""):
            forged = links.sign(known, PREFERENCES, str(subscription.id), utcnow() + timedelta(days=30))
            answer = web.get(f"/subscribe/preferences/{subscription.id}/{forged}")
            assert answer.status_code == 404 and "ban.doc@example.vn" not in answer.text
            refused = web.post(f"/subscribe/preferences/{subscription.id}/{forged}", data={"action": "unsubscribe"})
            assert refused.status_code == 404
