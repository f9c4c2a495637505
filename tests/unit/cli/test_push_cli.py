"""``bantin push keys``: a VAPID pair the settings accept, printed as settings lines (decision 0041)."""

from __future__ import annotations

from typer.testing import CliRunner

from config.settings import Settings
from service.cli.main import app


def test_push_keys_prints_a_pair_the_settings_accept() -> None:
    result = CliRunner().invoke(app, ["push", "keys", "--subject", "mailto:toasoan@example.vn"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.output.splitlines() if line.startswith("BANTIN_"))
    assert lines["BANTIN_WEB_PUSH_SUBJECT"] == "mailto:toasoan@example.vn"
    settings = Settings(
        secret_key="unit-test-secret-key-0123456789-abcdef",
        web_push_vapid_private_key=lines["BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY"],
        web_push_vapid_public_key=lines["BANTIN_WEB_PUSH_VAPID_PUBLIC_KEY"],
        web_push_subject=lines["BANTIN_WEB_PUSH_SUBJECT"],
    )
    assert len(settings.web_push_vapid_public_key) == 87  # 65 octets, base64url without padding
    again = CliRunner().invoke(app, ["push", "keys"])
    assert lines["BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY"] not in again.output  # a fresh pair each time


def test_push_keys_refuses_a_subject_push_services_cannot_write_to() -> None:
    result = CliRunner().invoke(app, ["push", "keys", "--subject", "toasoan@example.vn"])
    assert result.exit_code == 2 and "mailto:" in result.output
