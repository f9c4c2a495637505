"""Send one batch of deliveries: claim the rows, send concurrently, record results in bulk."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import aiohttp
from sqlalchemy import Row, select, text, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.announcements.compose import compose
from service.announcements.kinds import Claim, Content, Recipient, holds, load_contents
from service.announcements.message import Medium
from service.channels import mail
from service.channels.base import RateLimiter, SendContext
from service.channels.egress import policy_for
from service.channels.http import GuardedHttp, new_http_session
from service.channels.messages import OutboundMessage, SendResult
from service.channels.registry import CHANNELS
from service.db.engine import UnitOfWork
from service.db.models import Announcement, Delivery, DeliveryStatus, Subscription, SubscriptionStatus
from service.db.statements import among
from service.deliveries import zalo_quota
from service.deliveries.outcomes import record_results
from service.deliveries.planning import plan_disabled_notices
from service.observability.metrics import record_deliveries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchSummary:
    claimed: int
    delivered: int
    failed: int
    deferred: int


# How often a delivery to a paused subscription looks again whether it was resumed.
PAUSED_RECHECK = timedelta(minutes=5)
SUBSCRIPTION_COLUMNS = (
    Subscription.id,
    Subscription.status,
    Subscription.channel,
    Subscription.target,
    Subscription.options,
    Subscription.locale,
    Subscription.secret,
    Subscription.previous_secret,
    Subscription.previous_secret_expires_at,
    Subscription.unsubscribe_token,
)
# The delivery's columns a claim returns; its id is labelled apart from the subscription's.
CLAIMED_COLUMNS = (
    Delivery.id.label("delivery_id"),
    Delivery.subscription_id,
    Delivery.announcement_id,
    Delivery.attempts,
)
ANNOUNCEMENT_COLUMNS = (Announcement.id, Announcement.type, Announcement.payload, Announcement.created_at)


def claim(session: Session, delivery_ids: Sequence[str], now: datetime, settings: Settings) -> list[OutboundMessage]:
    """Take the rows that are still pending; a duplicate batch message finds none left.

    The rows are stamped with this claim's own token: only this claim may write their
    results (``record_results``), even if it outlives its lease and the sweep hands
    the rows to another batch. What each kind needs is read here, in bulk; each message is
    rendered (``service.announcements.compose``) when its adapter first reads it, after
    this transaction, and one that cannot be rendered fails alone.
    """
    lease = now + timedelta(seconds=settings.delivery_lease_seconds)
    token = uuid.uuid4().hex
    if session.get_bind().dialect.name == "postgresql":
        claimed, subscriptions = _claim_joined(session, delivery_ids, lease, token)
    else:
        claimed, subscriptions = _claim_then_read(session, delivery_ids, lease, token)
    if not claimed:
        return []
    # Each announcement once: a batch is hundreds of rows about one or two announcements,
    # whose payload need not be decoded hundreds of times.
    announcements = {
        row.id: row
        for row in session.execute(
            select(*ANNOUNCEMENT_COLUMNS).where(among(session, Announcement.id, {c.announcement_id for c in claimed}))
        )
    }
    created = {a.id: a.created_at.timestamp() for a in announcements.values()}
    claims: list[tuple[Row[Any], Row[Any], Claim]] = []
    held: dict[str, list[str]] = {SubscriptionStatus.PAUSED: [], SubscriptionStatus.DISABLED: []}
    for row in claimed:
        subscription = subscriptions.get(row.subscription_id)
        if subscription is None:
            continue  # deleted since planning: the cascade removes the row too
        announcement = announcements[row.announcement_id]
        # Whether a paused or disabled subscription holds it back is the kind's to say (a
        # reader's confirmation mail, the reply to a stop, go whatever the state).
        if subscription.status in held and holds(announcement.type):
            held[subscription.status].append(row.delivery_id)
            continue
        recipient = Recipient(
            subscription.id, subscription.channel, subscription.target, subscription.locale,
            subscription.unsubscribe_token,
        )  # fmt: skip
        delivery = Claim(
            row.delivery_id,
            announcement.type,
            announcement.id,
            announcement.payload,
            created[announcement.id],
            recipient,
        )
        claims.append((row, subscription, delivery))
    _hold_back(session, held[SubscriptionStatus.PAUSED], held[SubscriptionStatus.DISABLED], now)
    # What each kind needs beyond the payload (a digest's articles, a feed's bytes), read in bulk.
    contents = load_contents(session, [c for _, _, c in claims], settings)
    return [
        _message(row, subscription, delivery, contents[delivery.delivery_id], now, settings, token)
        for row, subscription, delivery in claims
    ]


def _claim_then_read(
    session: Session, delivery_ids: Sequence[str], lease: datetime, token: str
) -> tuple[Sequence[Row[Any]], dict[int, Row[Any]]]:
    """Claim, then read the subscriptions: two statements, for SQLite, whose RETURNING
    cannot name a joined table."""
    claimed = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING.value, lease_until=lease, claim_token=token)
        .returning(*CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return [], {}
    # Columns, not ORM objects.
    subscriptions = {
        row.id: row
        for row in session.execute(
            select(*SUBSCRIPTION_COLUMNS).where(Subscription.id.in_({c.subscription_id for c in claimed}))
        )
    }
    return claimed, subscriptions


def _claim_joined(
    session: Session, delivery_ids: Sequence[str], lease: datetime, token: str
) -> tuple[Sequence[Row[Any]], dict[int, Row[Any]]]:
    """PostgreSQL: claim and read each row's subscription in one statement and one round
    trip, the ids bound as one array (not one parameter per id, which is compiled, sent
    and planned anew for every batch size)."""
    rows = session.execute(_PG_CLAIM, {"ids": list(delivery_ids), "lease": lease, "token": token}).all()
    return rows, {row.subscription_id: row for row in rows}


# Delivery columns first, then SUBSCRIPTION_COLUMNS in their order (``id`` is the
# subscription's). A row whose subscription was deleted since planning went with it (the
# cascade), so the join loses nothing.
_PG_CLAIM = text("""
    UPDATE deliveries d
    SET status = 'sending', lease_until = :lease, claim_token = :token
    FROM subscriptions s
    WHERE d.id = ANY(CAST(:ids AS text[])) AND d.status = 'pending' AND s.id = d.subscription_id
    RETURNING d.id AS delivery_id, d.subscription_id, d.announcement_id, d.attempts,
              s.id, s.status, s.channel, s.target, s.options, s.locale, s.secret, s.previous_secret,
              s.previous_secret_expires_at, s.unsubscribe_token
""").columns(*CLAIMED_COLUMNS, *SUBSCRIPTION_COLUMNS)


def _hold_back(session: Session, paused: list[str], disabled: list[str], now: datetime) -> None:
    """Paused since planning: wait and look again later. Disabled: nothing will be sent."""
    if paused:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(paused))
            .values(
                status=DeliveryStatus.PENDING.value,
                lease_until=None,
                claim_token=None,
                next_attempt_at=now + PAUSED_RECHECK,
            )
            .execution_options(synchronize_session=False)
        )
    if disabled:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(disabled))
            .values(
                status=DeliveryStatus.FAILED.value,
                lease_until=None,
                claim_token=None,
                last_error="subscription disabled",
            )
            .execution_options(synchronize_session=False)
        )


def _message(
    claimed: Row[Any],
    sub: Row[Any],
    delivery: Claim,
    content: Content,
    now: datetime,
    settings: Settings,
    claim_token: str,
) -> OutboundMessage:
    secrets = tuple(s for s in (sub.secret,) if s)
    if sub.previous_secret and sub.previous_secret_expires_at and sub.previous_secret_expires_at > now:
        secrets += (sub.previous_secret,)
    channel = CHANNELS.get(sub.channel)
    # Rendered for what the channel writes out, when its adapter reads it (an unknown
    # channel fails at sending, where it always has).
    medium = channel.medium if channel is not None else Medium.DATA
    return OutboundMessage(
        delivery_id=claimed.delivery_id,
        subscription_id=sub.id,
        channel=sub.channel,
        target=sub.target,
        event_type=delivery.kind,
        compose=partial(compose, delivery, content, medium, settings, now),
        created_at=delivery.created_at,
        options=dict(sub.options or {}),
        secrets=secrets,
        announcement_id=delivery.announcement_id,
        attempts_made=claimed.attempts,
        claim_token=claim_token,
    )


class _ProcessLoop:
    """One event loop and one HTTP session per worker process, kept between batches.

    Keep-alive connections then outlive a batch: the next batch to the same receivers
    skips TCP (and TLS) set-up. Created lazily and keyed by pid, because Celery's
    prefork pool forks after import and a loop or socket must not cross a fork.
    """

    def __init__(self) -> None:
        self.pid = -1
        self.runner: asyncio.Runner | None = None
        self.http: aiohttp.ClientSession | None = None

    def run(
        self,
        messages: Sequence[OutboundMessage],
        settings: Settings,
        limiter: RateLimiter,
        resources: dict[str, Any] | None = None,
    ) -> list[SendResult]:
        if self.pid != os.getpid() or self.runner is None:
            self.pid, self.runner, self.http = os.getpid(), asyncio.Runner(loop_factory=_loop_factory()), None
        return self.runner.run(self._send(messages, settings, limiter, resources))

    async def _send(
        self,
        messages: Sequence[OutboundMessage],
        settings: Settings,
        limiter: RateLimiter,
        resources: dict[str, Any] | None,
    ) -> list[SendResult]:
        if self.http is None or self.http.closed:
            self.http = new_http_session(settings)
        return await send_all(messages, settings, limiter, self.http, resources)


_process_loop = _ProcessLoop()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it exists (not on Windows): 5-15 % more sends per CPU second here."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


_NOT_SENT = SendResult.failure("not sent")


async def send_all(
    messages: Sequence[OutboundMessage],
    settings: Settings,
    limiter: RateLimiter,
    http: aiohttp.ClientSession,
    resources: dict[str, Any] | None = None,
) -> list[SendResult]:
    """Every message concurrently, at most ``delivery_concurrency`` at a time, over the
    session's keep-alive connections; one result per message, in the messages' order.
    ``resources``: what the batch prepared for the channels (the Zalo promotion quota's units)."""
    guarded = GuardedHttp(http, policy_for(settings.egress_allow))
    context = SendContext(settings=settings, http=guarded, limiter=limiter, resources=dict(resources or {}))

    async def one(message: OutboundMessage) -> SendResult:
        # No extra asyncio.timeout here: the HTTP session's total timeout bounds a request
        # (a server trickling bytes included) and aiosmtplib bounds each SMTP step.
        try:
            return await CHANNELS[message.channel].send(context, message)
        except Exception as exc:
            log.exception(
                "delivery %s: %s adapter failed",
                message.delivery_id,
                message.channel,
                extra={"delivery_id": message.delivery_id, "subscription_id": message.subscription_id},
            )
            return SendResult.failure(f"internal error: {type(exc).__name__}")

    # Every slot is filled (``one`` never raises); the placeholder only keeps the type exact.
    results = [_NOT_SENT] * len(messages)
    pending = iter(enumerate(messages))

    async def sender() -> None:
        # A fixed set of senders taking the next message in turn, rather than a task per
        # message behind a semaphore: the same bound on requests in flight for a fraction
        # of the tasks and lock hand-offs per batch.
        for index, message in pending:
            results[index] = await one(message)

    try:
        await asyncio.gather(*(sender() for _ in range(min(settings.delivery_concurrency, len(messages)))))
        return results
    finally:
        await mail.close(context)


def send_batch(
    unit_of_work: UnitOfWork, delivery_ids: Sequence[str], now: datetime, limiter: RateLimiter, settings: Settings
) -> BatchSummary:
    """Claim, send, record. Idempotent per row: only pending rows are claimed."""
    with unit_of_work() as session:
        messages = claim(session, delivery_ids, now, settings)
    if not messages:
        return BatchSummary(0, 0, 0, 0)
    # The Zalo promotion quota's units, most recent follower first, before anything is sent.
    resources = zalo_quota.prepare(unit_of_work, messages, now, settings)
    results = _process_loop.run(messages, settings, limiter, resources)
    finished = datetime.now(now.tzinfo)
    zalo_quota.settle(unit_of_work, resources, messages, results, finished)
    record_deliveries(messages, results, finished.timestamp())
    with unit_of_work() as session:
        disabled = record_results(session, list(zip(messages, results, strict=True)), finished, settings)
        if disabled:
            plan_disabled_notices(session, disabled, finished, settings)  # sent after this commit
    delivered = sum(r.ok for r in results)
    deferred = sum(r.deferred for r in results)
    return BatchSummary(len(messages), delivered, len(results) - delivered - deferred, deferred)
