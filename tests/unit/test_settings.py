import pytest
from pydantic import ValidationError

from config.settings import Settings


def test_placeholder_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(environment="production", secret_key="change-me")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(environment="production", secret_key="short-but-not-a-placeholder")
    assert Settings(environment="production", secret_key="x" * 40).secret_key == "x" * 40


def test_placeholder_secret_is_fine_in_development_only() -> None:
    assert Settings(environment="development", secret_key="change-me").environment == "development"
    with pytest.raises(ValidationError, match="placeholder; set a real secret for test"):
        Settings(environment="test", secret_key="change-me")


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


def test_a_rabbitmq_broker_in_production_needs_a_redis_for_rate_limits() -> None:
    secret = "x" * 40
    rabbit = "amqp://bantin:pw@rabbitmq:5672/bantin"
    with pytest.raises(ValidationError, match="BANTIN_REDIS_URL is needed next to a RabbitMQ broker"):
        Settings(environment="production", secret_key=secret, broker_url=rabbit)
    both = Settings(environment="production", secret_key=secret, broker_url=rabbit, redis_url="redis://redis:6379/0")
    assert both.effective_broker_url == rabbit and both.effective_redis_url == "redis://redis:6379/0"
    # Redis as the broker is its own rate-limit store.
    assert Settings(environment="production", secret_key=secret, broker_url="redis://r:6379/1").effective_redis_url == (
        "redis://r:6379/1"
    )
