from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import Settings


def test_tokens_and_passwords_never_show_in_reprs_or_logs() -> None:
    settings = Settings(smtp_password="mật-khẩu-smtp", telegram_bot_token="123:bot", zalo_access_token="zalo-tok")
    shown = repr(settings) + str(settings.model_dump())
    for secret in ("mật-khẩu-smtp", "123:bot", "zalo-tok"):
        assert secret not in shown
    assert settings.smtp_password.get_secret_value() == "mật-khẩu-smtp"
    assert settings.telegram_bot_token.get_secret_value() == "123:bot"
    assert settings.zalo_access_token.get_secret_value() == "zalo-tok"
    assert not Settings().telegram_bot_token  # unset means "channel not configured"


def test_clock_file_is_refused_outside_tests(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="BANTIN_CLOCK_FILE is for tests only"):
        Settings(environment="production", clock_file=tmp_path / "now")
    assert Settings(environment="test", clock_file=tmp_path / "now").clock_file == tmp_path / "now"


def test_bad_values_are_refused_with_their_reason() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(timezone="Asia/Saigon-City")
    with pytest.raises(ValidationError, match="http"):
        Settings(base_url="bantin.vn")


def test_base_url_loses_its_trailing_slash() -> None:
    assert Settings(base_url="https://bantin.vn/").base_url == "https://bantin.vn"


def test_settings_come_from_bantin_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANTIN_FEED_ITEMS", "20")
    monkeypatch.setenv("BANTIN_DATABASE_URL", "postgresql+psycopg://db/bantin")
    settings = Settings()
    assert settings.feed_items == 20
    assert settings.effective_database_url == "postgresql+psycopg://db/bantin"


def test_delivery_lease_is_derived_from_and_longer_than_the_task_time_limit() -> None:
    assert Settings().delivery_lease_seconds == 240  # 180 s limit plus a third
    assert Settings(task_time_limit_seconds=30).delivery_lease_seconds == 40
    assert Settings(task_time_limit_seconds=30, delivery_lease_seconds=31).delivery_lease_seconds == 31
    for lease in (120, 180):
        with pytest.raises(ValidationError, match=r"BANTIN_DELIVERY_LEASE_SECONDS .* must be longer than"):
            Settings(delivery_lease_seconds=lease)


def test_celery_limits_come_from_the_settings_and_stay_inside_the_leases() -> None:
    from workers.app import create_app

    settings = Settings(task_time_limit_seconds=30, broker_url="memory://")
    conf = create_app(settings).conf
    assert (conf.task_time_limit, conf.task_soft_time_limit) == (30, 20)
    assert conf.broker_transport_options["visibility_timeout"] > settings.task_time_limit_seconds
    assert settings.delivery_lease_seconds > conf.task_time_limit


def test_a_rabbitmq_broker_in_production_needs_a_redis_for_rate_limits() -> None:
    rabbit = "amqp://bantin:pw@rabbitmq:5672/bantin"
    with pytest.raises(ValidationError, match="BANTIN_REDIS_URL is needed next to a RabbitMQ broker"):
        Settings(environment="production", broker_url=rabbit)
    both = Settings(environment="production", broker_url=rabbit, redis_url="redis://redis:6379/0")
    assert both.effective_broker_url == rabbit and both.effective_redis_url == "redis://redis:6379/0"
    # Redis as the broker is its own rate-limit store.
    assert Settings(environment="production", broker_url="redis://r:6379/1").effective_redis_url == ("redis://r:6379/1")


def test_no_environment_runs_with_a_known_or_short_secret(tmp_path: Path) -> None:
    """Placeholders are known to everyone: refused in development and tests too, not only production."""
    for environment in ("development", "test", "production"):
        for known in ("change-me", "CHANGE-ME", " secret ", "short", "x" * 31):
            with pytest.raises(ValidationError, match="BANTIN_SECRET_KEY must be a real secret"):
                Settings(_env_file=None, environment=environment, secret_key=known, var_dir=tmp_path)


def test_an_unset_secret_is_generated_outside_production_and_refused_in_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="production must set it"):
        Settings(_env_file=None, environment="production", secret_key="", var_dir=tmp_path / "prod")
    assert not (tmp_path / "prod" / "secret_key").exists()
    first = Settings(_env_file=None, environment="development", secret_key="", var_dir=tmp_path / "a")
    again = Settings(_env_file=None, environment="test", secret_key="", var_dir=tmp_path / "a")
    other = Settings(_env_file=None, environment="development", secret_key="", var_dir=tmp_path / "b")
    assert first.secret_key.get_secret_value() == again.secret_key.get_secret_value()  # kept, not remade
    assert first.secret_key.get_secret_value() != other.secret_key.get_secret_value()  # random per install
    assert first.secret_key.get_secret_value() not in repr(first) + str(first.model_dump())
    chosen = "a-secret-chosen-by-the-operator-0123456789"
    assert Settings(_env_file=None, secret_key=chosen, var_dir=tmp_path / "c").secret_key.get_secret_value() == chosen
    assert not (tmp_path / "c" / "secret_key").exists()  # a configured secret wins; nothing is written
