"""SQLAlchemy models: the database is the source of truth (ARCHITECTURE.md decision 1)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, query_expression, relationship, validates

from service.db.types import UTCDateTime, utcnow
from service.text import search_key

# BigInteger ids on PostgreSQL, but SQLite only auto-increments a column declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    # Submitted by a writer; an editor publishes it or returns it with a comment.
    PENDING_REVIEW = "pending_review"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class EventType(enum.StrEnum):
    ARTICLE_PUBLISHED = "article.published"
    ARTICLE_UPDATED = "article.updated"
    ARTICLE_WITHDRAWN = "article.withdrawn"
    # A correction of a published article (Luật Báo chí 2016, Art. 42; decision 0043).
    ARTICLE_CORRECTED = "article.corrected"


article_categories = Table(
    "article_categories",
    Base.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    # The article's published_at while it is published, else NULL: a copy kept in step by
    # service/articles/derived.py, so a category's page is one range of the index below
    # instead of a walk down every published article probing membership.
    Column("published_at", UTCDateTime, nullable=True),
    Index("ix_article_categories_category", "category_id", "article_id"),
    Index(
        "ix_article_categories_listing",
        "category_id",
        "published_at",
        "article_id",
        postgresql_where=text("published_at IS NOT NULL"),
        sqlite_where=text("published_at IS NOT NULL"),
    ),
)

# Articles per (status, category); category_id 0 counts every article of the status.
# Kept exact in the transaction of every article write (service/articles/derived.py),
# so the staff list's total is a look-up, not a count over the whole table.
article_counts = Table(
    "article_counts",
    Base.metadata,
    Column("status", String(16), primary_key=True),
    Column("category_id", BigId, primary_key=True, autoincrement=False),
    Column("articles", BigInteger, nullable=False),
)

# One row (id 1): a number that grows with every article write, in its transaction. API
# processes compare it like the stored documents' versions; public pages' ETags name it.
site_generation = Table(
    "site_generation",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Created by an admin for readers (``bantin categories create``): public before any
    # article uses it. A category created by an article's save is public only while a
    # published article uses it (service/articles/categories.py).
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Its place in the public pages' menu (1 first), set by an admin in the console; None:
    # not in the menu (service/site/navigation.py).
    menu_position: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_status_published_at", "status", "published_at"),
        Index("ix_articles_status_publish_at", "status", "publish_at"),
        Index("ix_articles_updated_at", "updated_at"),
        # A writer's start page: their own articles, last changed first (service.articles.review.work_of).
        Index("ix_articles_created_by", "created_by", "updated_at"),
        # Trigrams let PostgreSQL answer `LIKE '%dang%'` from the index; SQLite ignores the options.
        # The console's and the API's list order (newest first): page 1 of 100,000 without a sort.
        Index("ix_articles_recency", text("coalesce(published_at, created_at) DESC"), text("id DESC")),
        Index(
            "ix_articles_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Assigned once at creation and never changed: feed readers key items on it.
    guid: Mapped[str] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    body_html: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)
    image_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    image_caption: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The cover's text alternative (alt), read instead of the picture; not its caption (decision 0034).
    image_alt: Mapped[str | None] = mapped_column(String(300), nullable=True)
    source_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Why it was withdrawn, as the 410 page tells readers (None: no reason given; decision 0043).
    withdrawal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who made it and who changed it last: "user:<username>" or "token:<id>".
    created_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # Title, summary and author lower-cased without diacritics (đ→d), for search that
    # finds "Đảng" from "dang" on SQLite and PostgreSQL alike; kept in step by _search_text.
    search_text: Mapped[str] = mapped_column(Text, default="")

    categories: Mapped[list[Category]] = relationship(
        secondary=article_categories, lazy="selectin", order_by=Category.slug
    )

    @validates("title", "summary", "author")
    def _search_text(self, key: str, value: str | None) -> str | None:
        parts = {"title": self.title, "summary": self.summary, "author": self.author, key: value}
        self.search_text = search_key(" ".join(p for p in parts.values() if p))
        return value


class OutboxEvent(Base):
    """An event written in the same transaction as the change it describes."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_pending", "handled_at", "next_attempt_at"),
        # An article's events of one type: who received its publication, for a correction (decision 0043).
        Index("ix_outbox_events_article", "article_id", "type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), nullable=True)
    # Feed scopes the change touches, computed at write time so that a category the
    # article just left is re-rendered too.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the sweep should (re)send it if nobody has handled it by then.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    relay_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The event's two consumers, done independently and in parallel: feeds re-rendered,
    # and the announcement to subscribers planned. The sweep re-sends until both are set.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FeedDocument(Base):
    """Rendered feed bytes, served as they are (ARCHITECTURE.md decision 5)."""

    __tablename__ = "feed_documents"

    scope: Mapped[str] = mapped_column(String(220), primary_key=True)
    format: Mapped[str] = mapped_column(String(8), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(80))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The same bytes compressed once at render time (Content-Encoding gzip and br).
    body_gzip: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    body_br: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Bumped on every change of the bytes: API processes compare the sum over all rows
    # to know that what they keep in memory is still what the database holds.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Whether both compressed variants are stored, when a query asked for it instead of
    # loading the bodies (``service.feeds.documents.scope_documents``); None otherwise.
    has_variants: Mapped[bool | None] = query_expression()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the token: tokens are 256-bit random, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdempotentRequest(Base):
    """The first answer to a POST carrying an Idempotency-Key, replayed on repeats (decision 29).

    Written in the transaction that does the request's work, so the key and the work commit
    together or not at all.
    """

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotent_requests_token_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path, query and body the key was first used with.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    location: Mapped[str | None] = mapped_column(String(400), nullable=True)
    # The subscription the answer quotes (its address, its secret): deleted with it, and by forget.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE", name="fk_idempotent_requests_subscription_id"),
        nullable=True,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubscriptionStatus(enum.StrEnum):
    # WebSub only: asked for, intent not verified yet.
    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"
    # A staff member's notification address (service/staff): named by the staff
    # notifications only, never selected by an event's followers, a digest or the hub.
    STAFF = "staff"


class Subscription(Base):
    """A subscriber's channel: where announcements go, and which ones."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_status_channel", "status", "channel"),
        Index("ix_subscriptions_channel_topic", "channel", "topic"),
        Index("ix_subscriptions_channel_target", "channel", "target"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    # Empty list = every event / every category.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Webhook signing secret (whsec_…) or WebSub hub.secret; never listed, never logged.
    secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    previous_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Lets an e-mail recipient unsubscribe with one click, without logging in (RFC 8058).
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    # WebSub: the feed URL subscribed to, and when the lease runs out.
    topic: Mapped[str | None] = mapped_column(String(400), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # each: one message per announcement; daily / weekly: digests (service/digests).
    frequency: Mapped[str] = mapped_column(String(8), default="each", server_default="each")
    # A digest reader is owed the articles published after this instant: set when it
    # confirms or turns to digests, moved to each period's start when its digest is planned.
    digest_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SubscribeRequest(Base):
    """One sign-up waiting for its confirmation link's POST; the link is single use.

    Only the SHA-256 of the link's token is stored; the mail recomputes the token from
    ``token_salt`` and BANTIN_SECRET_KEY, so the database alone opens nothing.
    """

    __tablename__ = "subscribe_requests"
    __table_args__ = (Index("ix_subscribe_requests_domain_pending", "domain", "used_at", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_salt: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(255))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    frequency: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str] = mapped_column(String(8))
    consent_version: Mapped[str] = mapped_column(String(32))
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsentEvent(Base):
    """Consent given or withdrawn (Decree 13/2023/NĐ-CP art. 11): append-only, never updated."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # given, changed, withdrawn
    channel: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))  # form, bot, follow, admin
    text_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suppression(Base):
    """A forgotten subscriber: only a hash of channel and target, so nobody re-adds it unasked."""

    __tablename__ = "suppressions"

    target_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TelegramUpdate(Base):
    """One Bot API update handled (or ignored) once: its id is unique, so a redelivery does nothing."""

    __tablename__ = "telegram_updates"
    __table_args__ = (Index("ix_telegram_updates_received_at", "received_at"),)

    # Telegram's update_id: sequential per bot, up to 2^53 in practice (a BigInteger).
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))  # message, callback_query, … or what was ignored
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ZaloEvent(Base):
    """One Zalo Official Account webhook event that changed a subscription: Zalo redelivers an
    event until it gets a 200 (for hours), so each is recorded once, in the transaction that acts on it.

    The key is an HMAC (``BANTIN_SECRET_KEY``) of the event's name and message id, or of its
    name, user and timestamp: nothing here names a follower.
    """

    __tablename__ = "zalo_events"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_name: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Announcement(Base):
    """One thing to tell subscribers: an article event, a reminder, a system notice."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # What it announces ("event:42"); unique, so handling an event twice plans once.
    source_key: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(Base):
    """One announcement to one subscription; its id is the ``webhook-id`` receivers see."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "subscription_id", name="uq_deliveries_announcement_subscription"),
        Index("ix_deliveries_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_deliveries_subscription", "subscription_id", "created_at"),
        # A withdrawal's look-up of the posts it takes back (decision 0039) reads only the few
        # rows a destination gave an id, not every delivery of a fan-out's subscriptions.
        Index(
            "ix_deliveries_remote",
            "subscription_id",
            postgresql_where=text("remote_id IS NOT NULL"),
            sqlite_where=text("remote_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # While set and in the future, a batch task holds (or is about to hold) this row.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The batch that holds the row while sending: only it may write the row's result.
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The id the destination gave what it received (a Facebook Page post's id), written with
    # the delivered status; a later message that takes this one back (a withdrawal) reads it.
    remote_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_delivery", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)


class KeyDate(Base):
    """A date whose anniversaries the organisation marks: solar, or Vietnamese lunar."""

    __tablename__ = "key_dates"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    calendar: Mapped[str] = mapped_column(String(8))
    day: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    leap_month: Mapped[bool] = mapped_column(default=False)
    origin_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="national")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    offsets: Mapped[list[int]] = mapped_column(JSON)
    send_time: Mapped[str] = mapped_column(String(5))
    # Which subscriptions get its reminders: {"channels": [...], "subscription_ids": [...]}.
    events_to: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Jinja2 templates per locale, overriding the default wording.
    templates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    # "file" for entries seeded from config/key_dates.yaml, "api" for the rest.
    source: Mapped[str] = mapped_column(String(8), default="api")
    # Reminders exist as rows for occurrences up to this date.
    planned_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderStatus(enum.StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    MISSED = "missed"
    FAILED = "failed"  # its key date's template failed when rendered


class Reminder(Base):
    """One reminder: key date × occurrence × days before. Unique, so it is sent once."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("key_date_id", "occurrence_date", "offset_days", name="uq_reminders_occurrence_offset"),
        Index("ix_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_date_id: Mapped[str] = mapped_column(ForeignKey("key_dates.id", ondelete="CASCADE"))
    occurrence_date: Mapped[date] = mapped_column(Date)
    offset_days: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    anniversary: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ReminderStatus.PLANNED.value)
    late: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OccurrenceDraft(Base):
    """The article drafted from one occurrence of a key date ("Draft an article" in the console).

    One per key date × occurrence date, so pressing the button again (or two editors at
    once) opens the draft that exists instead of making another; a withdrawn one is replaced.
    """

    __tablename__ = "occurrence_drafts"

    key_date_id: Mapped[str] = mapped_column(ForeignKey("key_dates.id", ondelete="CASCADE"), primary_key=True)
    occurrence_date: Mapped[date] = mapped_column(Date, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestStatus(enum.StrEnum):
    QUEUED = "queued"  # its delivery row was planned: the delivery's status tells the rest
    EMPTY = "empty"  # nothing new in the reader's categories: no mail
    MISSED = "missed"  # found later than BANTIN_DIGEST_GRACE_HOURS: not sent, its articles carried over


class Digest(Base):
    """One digest: subscriber × period. Unique, so it is planned once whatever runs twice."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", name="uq_digests_subscription_period"),
        Index("ix_digests_delivery", "delivery_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(8))
    # The scheduled instant (UTC) that opens the period; the digest covers what was
    # published after ``covers_from`` up to it.
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    covers_from: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    # Newest first, fixed when planned: a retry sends the same mail.
    article_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    delivery_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestPeriod(Base):
    """A frequency's period whose every digest row exists: later ticks skip it in one look-up."""

    __tablename__ = "digest_periods"

    frequency: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRole(enum.StrEnum):
    WRITER = "writer"
    EDITOR = "editor"
    ADMIN = "admin"


class User(Base):
    """A person who signs in to the staff console."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Argon2id in PHC string form ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Two-factor sign-in (TOTP, RFC 6238; service/auth/two_factor.py): the confirmed secret
    # (base32) and when it was confirmed; a secret shown for enrolment, not yet confirmed;
    # the last time step a code was accepted at, so that no code is accepted twice.
    # Sealed (service/auth/sealed.py): ``v1.`` and 87 characters for a 32-character secret.
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Where the staff notifications go by e-mail (service/staff/addresses.py); None: no mail.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)


class TwoFactorRole(Base):
    """A role an admin requires to sign in with a second factor, from the console (beyond
    BANTIN_TWO_FACTOR_ROLES_REQUIRED, which the console cannot lower)."""

    __tablename__ = "two_factor_roles"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    required_since: Mapped[datetime] = mapped_column(UTCDateTime)
    required_by: Mapped[str] = mapped_column(String(64))


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The synchroniser token every state-changing form carries; new with every session.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # One-shot messages for the next page ("Article “X” was published"), consumed on render.
    flash: Mapped[list[str]] = mapped_column(JSON, default=list)

    user: Mapped[User] = relationship(lazy="joined")


class ReviewStatus(enum.StrEnum):
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"


class ArticleReview(Base):
    """One submission of an article for review, and the editor's decision on it."""

    __tablename__ = "article_reviews"
    __table_args__ = (
        # At most one review in progress per article, whatever the races.
        Index(
            "uq_article_reviews_one_in_review",
            "article_id",
            unique=True,
            postgresql_where=text("status = 'in_review'"),
            sqlite_where=text("status = 'in_review'"),
        ),
        Index("ix_article_reviews_article", "article_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(24))
    # "user:<name>" or "token:<id>", as Article.created_by.
    requested_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The workflow stage this review is at, counted from 0 (service/staff/workflow.py,
    # decision 0042); approving a stage before the last opens a review at the next one.
    stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReviewStage(Base):
    """One stage of the review workflow, in ``position`` order (decision 0042). Held by every
    user of ``role`` and above ("editor": editors and admins; "admin": admins), or, when
    ``role`` is None, by the users named in ``review_stage_members``. No rows: one stage held
    by every editor and admin, the workflow before stages existed."""

    __tablename__ = "review_stages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ReviewStageMember(Base):
    """A user named to hold a stage whose ``role`` is None."""

    __tablename__ = "review_stage_members"

    stage_id: Mapped[int] = mapped_column(ForeignKey("review_stages.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class StaffChannel(Base):
    """A staff member's notification address on one channel: the subscription (status
    ``staff``) their notifications are delivery rows of, so they retry and are logged."""

    __tablename__ = "staff_channels"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), unique=True)


class StaffLinkCode(Base):
    """A one-time code that links a Telegram chat to a staff member (``/start <code>``);
    only its SHA-256 is kept, and it expires."""

    __tablename__ = "staff_link_codes"
    __table_args__ = (Index("ix_staff_link_codes_user", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ArticleCorrection(Base):
    """A correction of a published article ("cải chính", Luật Báo chí 2016, Art. 42): what was
    wrong, what is right, whether the desk apologises. Append-only, like revisions (decision 0043)."""

    __tablename__ = "article_corrections"
    __table_args__ = (
        # /cai-chinh and its feed: newest first, keyset-paged on (published_at, id).
        Index("ix_article_corrections_recency", "published_at", "id"),
        Index("ix_article_corrections_article", "article_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    wrong_text: Mapped[str] = mapped_column(Text)
    right_text: Mapped[str] = mapped_column(Text)
    apology: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "user:<name>" or "token:<id>", as Article.updated_by; None for the operator's CLI.
    published_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # The article's latest revision when corrected: the text the correction is about stays there.
    revision_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class ArticleRevision(Base):
    """An immutable snapshot of an article's content after one save; never updated or deleted."""

    __tablename__ = "article_revisions"
    __table_args__ = (Index("ix_article_revisions_article", "article_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "user:<name>" or "token:<id>", as Article.created_by.
    author: Mapped[str | None] = mapped_column(String(120), nullable=True)
    title: Mapped[str] = mapped_column(Text)
    # title, summary, body_html, categories (names), author, image_url, image_alt, source_name, source_url
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set when this revision restored an older one.
    restored_from_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class MediaFile(Base):
    """An image uploaded from the console, stored once under BANTIN_MEDIA_DIR as ``<sha256>.<ext>``.

    The hash is of the stored (re-encoded, metadata-free) bytes, so the same picture
    uploaded twice is one file and one row; the feeds read ``bytes`` and ``content_type``
    for their enclosures.
    """

    __tablename__ = "media"
    # The console lists the latest uploads to choose a cover image from.
    __table_args__ = (Index("ix_media_created_at", "created_at"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    # image/jpeg, image/png, image/webp or image/gif; the file's extension follows from it.
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    # "user:<name>", as Article.created_by: the first one who uploaded it.
    uploaded_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Tables whose triggers refuse UPDATE and DELETE (migration 0024): emptied in tests only through an export.
APPEND_ONLY_TABLES = frozenset({"audit_events", "audit_exports"})


class AuditEvent(Base):
    """One change a person, a token or the operator made, and each sign-in (issue 22 §3).

    Append-only where it is stored (migration 0024's triggers): an UPDATE is refused on
    both databases, a DELETE unless the row is already in an ``audit_exports`` file.
    ``before``/``after`` hold only the fields that changed, secrets replaced by a mask
    (service/audit/log.py).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor", "actor_name", "at"),
        Index("ix_audit_events_action", "action", "at"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        # Ids never reused, even once every row is exported and deleted: the DELETE trigger
        # trusts that an id at or below an export's last id is in that export.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # user, token, operator (the CLI), system (beat, workers) or anonymous (a failed sign-in).
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The client's address as service/web/client.py decided it; "cli" for the operator.
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AuditExport(Base):
    """A file that holds every audit row up to ``through_id``: the only rows that may be deleted."""

    __tablename__ = "audit_exports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    through_id: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))


class ZaloQuota(Base):
    """The Official Account's promotion quota, one row per quota window (decision 0040).

    ``window_start``/``window_end``: the window (a calendar month in BANTIN_TIMEZONE, as
    Zalo counts it); ``allowance``: what the package allows in it (None: unknown);
    ``used``: promotion messages taken in it (reserved before sending, given back when a
    send did not go); ``exhausted_at``: Zalo answered "out of quota" in this window, so
    nothing more is sent until the next one, whatever ``used`` says.
    """

    __tablename__ = "zalo_quota"

    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    allowance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    exhausted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
