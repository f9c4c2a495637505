"""Send one batch of deliveries: claim the rows, send concurrently, record results in bulk."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from service.channels import mail
from service.channels.base import OutboundMessage, RateLimiter, SendContext, SendResult
from service.channels.egress import policy_for
from service.channels.registry import CHANNELS
from service.db.models import Announcement, Delivery, DeliveryStatus, Subscription
from service.deliveries.content import feed_content_for
from service.deliveries.outcomes import record_results
from service.deliveries.planning import plan_disabled_notices

log = logging.getLogger(__name__)
UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class BatchSummary:
    claimed: int
    delivered: int
    failed: int
    deferred: int
    # Notices planned by this batch (a subscription disabled), for the caller to enqueue.
    follow_up_ids: tuple[str, ...] = ()


def claim(session: Session, delivery_ids: Sequence[str], now: datetime, settings: Settings) -> list[OutboundMessage]:
    """Take the rows that are still pending; a duplicate batch message finds none left."""
    lease = now + timedelta(seconds=settings.delivery_lease_seconds)
    claimed = session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING.value, lease_until=lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    rows = session.execute(
        select(Delivery.id, Subscription, Announcement)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(Announcement, Announcement.id == Delivery.announcement_id)
        .where(Delivery.id.in_(claimed))
    ).all()
    return [
        _message(delivery_id, subscription, announcement, now, session)
        for delivery_id, subscription, announcement in rows
    ]


def _message(
    delivery_id: str, sub: Subscription, announcement: Announcement, now: datetime, session: Session
) -> OutboundMessage:
    secrets = tuple(s for s in (sub.secret,) if s)
    if sub.previous_secret and sub.previous_secret_expires_at and sub.previous_secret_expires_at > now:
        secrets += (sub.previous_secret,)
    content = feed_content_for(session, announcement.payload) if sub.channel == "websub" else None
    return OutboundMessage(
        delivery_id=delivery_id,
        subscription_id=sub.id,
        channel=sub.channel,
        target=sub.target,
        options=dict(sub.options or {}),
        locale=sub.locale,
        event_type=announcement.type,
        payload=announcement.payload,
        created_at=announcement.created_at.timestamp(),
        secrets=secrets,
        unsubscribe_token=sub.unsubscribe_token,
        content=content,
    )


async def send_all(messages: Sequence[OutboundMessage], settings: Settings, limiter: RateLimiter) -> list[SendResult]:
    """Every message concurrently, over keep-alive connections shared by the batch."""
    limits = httpx.Limits(
        max_connections=settings.delivery_concurrency, max_keepalive_connections=settings.delivery_concurrency
    )
    timeout = httpx.Timeout(settings.delivery_timeout_seconds)
    gate = asyncio.Semaphore(settings.delivery_concurrency)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False) as http:
        context = SendContext(settings=settings, http=http, limiter=limiter, policy=policy_for(settings.egress_allow))

        async def one(message: OutboundMessage) -> SendResult:
            async with gate:
                try:
                    # Overall bound too: a server trickling bytes must not outlast the timeout.
                    async with asyncio.timeout(settings.delivery_timeout_seconds * 2):
                        return await CHANNELS[message.channel].send(context, message)
                except TimeoutError:
                    return SendResult.failure("timed out")
                except Exception as exc:
                    log.exception("delivery %s: %s adapter failed", message.delivery_id, message.channel)
                    return SendResult.failure(f"internal error: {type(exc).__name__}")

        try:
            return list(await asyncio.gather(*(one(m) for m in messages)))
        finally:
            await mail.close(context)


def send_batch(
    unit_of_work: UnitOfWork, delivery_ids: Sequence[str], now: datetime, limiter: RateLimiter
) -> BatchSummary:
    """Claim, send, record. Idempotent per row: only pending rows are claimed."""
    settings = get_settings()
    with unit_of_work() as session:
        messages = claim(session, delivery_ids, now, settings)
    if not messages:
        return BatchSummary(0, 0, 0, 0)
    results = asyncio.run(send_all(messages, settings, limiter))
    finished = datetime.now(now.tzinfo)
    with unit_of_work() as session:
        disabled = record_results(session, list(zip(messages, results, strict=True)), finished, settings)
        follow_up = plan_disabled_notices(session, disabled, finished) if disabled else []
    delivered = sum(r.ok for r in results)
    deferred = sum(r.deferred for r in results)
    return BatchSummary(len(messages), delivered, len(results) - delivered - deferred, deferred, tuple(follow_up))
