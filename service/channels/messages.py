"""What goes into an adapter (``OutboundMessage``) and what comes out (``SendResult``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_ERROR_LENGTH = 300


@dataclass(frozen=True)
class FeedContent:
    """A feed's current bytes and the links that describe it (WebSub §7 ``Link`` header)."""

    body: bytes
    content_type: str
    self_url: str
    hub_url: str


@dataclass(frozen=True)
class OutboundMessage:
    """Everything an adapter needs for one delivery, loaded before any network I/O.

    Fields describe the subscription, the announcement and the delivery, never one
    channel's needs: each adapter derives what its service wants from these.
    """

    delivery_id: str
    subscription_id: int
    channel: str
    target: str
    options: Mapping[str, Any]
    locale: str
    event_type: str
    payload: Mapping[str, Any]
    created_at: float  # epoch seconds of the announcement
    secrets: tuple[str, ...] = ()  # the subscription's signing secrets, newest first
    unsubscribe_token: str = ""  # the subscription's own unsubscribe link token
    # A feed.updated announcement's feed document, read once per batch when the batch starts.
    document: FeedContent | None = None
    announcement_id: int = 0
    attempts_made: int = 0  # before this one
    claim_token: str = ""  # the batch's claim on the delivery row: only it writes the result


@dataclass
class SendResult:
    """One attempt's outcome, as the delivery log records it."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds
    # The destination said it is gone for good (HTTP 410): disable the subscription.
    gone: bool = False
    # The destination moved (a Telegram group upgraded to a supergroup): the subscription's
    # new target; the delivery is sent again there, and the attempt is not a failure.
    moved_to: str | None = None
    # Not attempted: a rate limit asked us to wait; no attempt is recorded.
    deferred: bool = False
    duration_ms: int = 0

    @classmethod
    def failure(cls, error: str, status_code: int | None = None, **kwargs: Any) -> SendResult:
        """A failed attempt; the error is cut to ``MAX_ERROR_LENGTH`` characters."""
        return cls(ok=False, status_code=status_code, error=error[:MAX_ERROR_LENGTH], **kwargs)
