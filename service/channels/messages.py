"""What goes into an adapter (``OutboundMessage``) and what comes out (``SendResult``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

from service.announcements.message import Message

MAX_ERROR_LENGTH = 300


@dataclass(frozen=True, eq=False)
class OutboundMessage:
    """One delivery as an adapter sends it: where it goes, how it is signed, and the finished
    message (``message``), rendered above the transport by the announcement's kind.

    Fields describe the subscription, the announcement and the delivery, never one
    channel's needs: each adapter writes out what its transport wants from ``message``.
    """

    delivery_id: str
    subscription_id: int
    channel: str
    target: str
    event_type: str  # the announcement's kind, for logs and metrics
    # Renders the finished message; called once, when an adapter first reads ``message``
    # (inside its send: a message that cannot be rendered fails alone, as its delivery).
    compose: Callable[[], Message]
    created_at: float = 0.0  # epoch seconds of the announcement
    options: Mapping[str, Any] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # the subscription's signing secrets, newest first
    announcement_id: int = 0
    attempts_made: int = 0  # before this one
    claim_token: str = ""  # the batch's claim on the delivery row: only it writes the result

    @cached_property
    def message(self) -> Message:
        """The finished message (subject, text, HTML, links, headers, data or a feed's bytes)."""
        return self.compose()


def ready(message: Message) -> Callable[[], Message]:
    """A ``compose`` for a message finished beforehand (a preview, a test)."""
    return lambda: message


class Ending(Enum):
    """What a destination's "gone" answer does to its subscription, at once (decision 0039).

    Each channel reads its service's documented answers into one of these (its ``gone``
    function); ``service.deliveries.outcomes.record_results`` is the one place that acts.
    """

    # The destination no longer exists (a deleted webhook, a blocked bot, an unfollowed OA):
    # the subscription is disabled and its pending deliveries fail.
    ENDED = "ended"
    # The destination is there but refuses our credential (a revoked Page access token): the
    # subscription is paused and its deliveries wait, until an admin connects it again.
    PAUSED = "paused"


@dataclass
class SendResult:
    """One attempt's outcome, as the delivery log records it."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds
    # The destination said it is gone (or refused our credential for it): ``error`` holds the
    # service's words, and the subscription is disabled or paused at once.
    gone: Ending | None = None
    # The id the destination gave what it received (a Graph API post id), kept on the
    # delivery row in the transaction that marks it delivered.
    remote_id: str | None = None
    # The destination moved (a Telegram group upgraded to a supergroup): the subscription's
    # new target; the delivery is sent again there, and the attempt is not a failure.
    moved_to: str | None = None
    # What the answer taught us about the destination, merged into the subscription's options
    # when the result is recorded (a Zalo follower found outside the 7-day window: decision 0040).
    keep: Mapping[str, Any] | None = None
    # Not attempted: a rate limit asked us to wait; no attempt is recorded.
    deferred: bool = False
    duration_ms: int = 0

    @classmethod
    def failure(cls, error: str, status_code: int | None = None, **kwargs: Any) -> SendResult:
        """A failed attempt; the error is cut to ``MAX_ERROR_LENGTH`` characters."""
        return cls(ok=False, status_code=status_code, error=error[:MAX_ERROR_LENGTH], **kwargs)
