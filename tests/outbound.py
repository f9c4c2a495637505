"""One delivery as the batch sender makes it, outside the database: for tests and benches
that drive an adapter (or ``send_all``) directly.

The message is rendered by the announcement's registered kind, for what the channel
writes out, exactly as ``service.deliveries.sender.claim`` has it rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from config.settings import Settings, get_settings
from service.announcement_kinds import register_all
from service.announcements.compose import compose
from service.announcements.kinds import Claim, Content, Recipient
from service.channels.messages import OutboundMessage
from service.channels.registry import CHANNELS


def outbound(
    event_type: str,
    payload: Mapping[str, Any],
    *,
    channel: str = "webhook",
    target: str = "",
    locale: str = "vi",
    delivery_id: str = "msg_1",
    subscription_id: int = 1,
    unsubscribe_token: str = "",
    created_at: float = 0.0,
    secrets: tuple[str, ...] = (),
    announcement_id: int = 0,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """The ``OutboundMessage`` of one delivery of an ``event_type`` announcement to a subscription."""
    register_all()
    recipient = Recipient(subscription_id, channel, target, locale, unsubscribe_token)
    claim = Claim(delivery_id, event_type, announcement_id, payload, created_at, recipient)
    render = partial(
        compose, claim, Content(payload), CHANNELS[channel].medium, settings or get_settings(), now or datetime.now(UTC)
    )
    return OutboundMessage(
        delivery_id=delivery_id,
        subscription_id=subscription_id,
        channel=channel,
        target=target,
        event_type=event_type,
        compose=render,
        created_at=created_at,
        secrets=secrets,
        announcement_id=announcement_id,
    )
