"""``bantin telegram …`` says what is missing before it calls Telegram, and settings check the secret."""

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from service.cli.main import app


def test_set_webhook_and_poll_name_the_missing_setting(settings_override: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    for command in (["telegram", "set-webhook"], ["telegram", "poll", "--once"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2 and "BANTIN_TELEGRAM_BOT_TOKEN is not set" in result.output
    settings_override.setenv("BANTIN_TELEGRAM_BOT_TOKEN", "1:T")
    get_settings.cache_clear()
    result = runner.invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 2 and "BANTIN_TELEGRAM_WEBHOOK_SECRET is not set" in result.output


def test_a_webhook_secret_telegram_would_refuse_is_refused_at_start() -> None:
    assert Settings(telegram_webhook_secret="A-z_09" * 40).telegram_webhook_secret.get_secret_value()
    for bad in ("has space", "ñ", "x" * 257, "semi;colon"):
        with pytest.raises(ValidationError, match="Telegram's secret_token"):
            Settings(telegram_webhook_secret=bad)
    assert "hidden-secret" not in repr(Settings(telegram_webhook_secret="hidden-secret"))
