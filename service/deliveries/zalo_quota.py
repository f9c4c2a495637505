"""The Official Account's promotion quota, kept per window in ``zalo_quota`` (decision 0040).

A batch gives its deliveries to followers known to be outside the 7-day window
(``zalo_forms.known_cold``) a unit each, **most recent follower first** (by their last
interaction we saw, then the newest subscription), in one locked read-modify-write before
anything is sent; those left without one wait, deferred, until the window ends, and are
sent then (their rows are the same rows: nothing twice). A follower found outside the window
only by a -230 is marked so and comes back in a later batch, in its turn. A unit whose send did
not go is given back after the batch; Zalo's own "out of quota" closes the window whatever
the count says. The window is the calendar month in BANTIN_TIMEZONE (or
``BANTIN_ZALO_PROMOTION_QUOTA_WINDOW_SECONDS``), read from the real clock, as deliveries are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.channels import zalo
from service.channels.messages import OutboundMessage, SendResult
from service.channels.zalo_forms import COLD_MARK, WINDOW_MS, known_cold, last_interaction_ms
from service.db.engine import UnitOfWork
from service.db.models import Delivery, DeliveryStatus, Subscription, ZaloQuota
from service.db.statements import insert_ignoring_duplicates
from service.db.types import utcnow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_of(now: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """The quota window holding ``now`` (UTC instants): the calendar month in the desk's zone,
    or consecutive windows of ``zalo_promotion_quota_window_seconds`` from the epoch."""
    seconds = settings.zalo_promotion_quota_window_seconds
    if seconds:
        start = _EPOCH + timedelta(seconds=(now - _EPOCH).total_seconds() // seconds * seconds)
        return start, start + timedelta(seconds=seconds)
    local = now.astimezone(settings.zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    return first.astimezone(UTC), following.astimezone(UTC)


def _row(session: Session, now: datetime, settings: Settings) -> ZaloQuota:
    """This window's row, created on first use (both databases, under concurrency) and locked."""
    start, end = window_of(now, settings)
    session.execute(
        insert_ignoring_duplicates(session, ZaloQuota).values(
            window_start=start, window_end=end, allowance=settings.zalo_promotion_quota, used=0, updated_at=now
        )
    )
    return session.scalars(select(ZaloQuota).where(ZaloQuota.window_start == start).with_for_update()).one()


def _left(row: ZaloQuota, settings: Settings) -> int | None:
    """Units left in the row's window; None when no allowance is known (and Zalo has not said)."""
    if row.exhausted_at is not None:
        return 0
    allowance = settings.zalo_promotion_quota
    return None if allowance is None else max(0, allowance - row.used)


def take(session: Session, wanted: int, now: datetime, settings: Settings) -> tuple[int, float]:
    """Reserve up to ``wanted`` units in this window: (units granted, seconds until it ends)."""
    row = _row(session, now, settings)
    row.allowance = settings.zalo_promotion_quota  # the package's number as configured now
    wait = max(1.0, (row.window_end - now).total_seconds())
    left = _left(row, settings)
    granted = wanted if left is None else min(wanted, left)
    row.used += granted
    row.updated_at = now
    return granted, wait


def give_back(session: Session, units: int, now: datetime, settings: Settings) -> None:
    """Units reserved for sends that did not go return to this window."""
    if units:
        row = _row(session, now, settings)
        row.used = max(0, row.used - units)
        row.updated_at = now


def exhaust(session: Session, now: datetime, settings: Settings) -> float:
    """Zalo answered "out of quota": nothing more until the window ends; the seconds until then."""
    row = _row(session, now, settings)
    if row.exhausted_at is None:
        row.exhausted_at = now
    row.updated_at = now
    return max(1.0, (row.window_end - now).total_seconds())


@dataclass(frozen=True)
class QuotaView:
    """What the dashboard shows: the window, what it allows, what was used, whether Zalo closed it."""

    window_start: datetime
    window_end: datetime
    allowance: int | None
    used: int
    exhausted_at: datetime | None
    waiting: int = 0  # deliveries waiting for the quota to return (at most WAITING_COUNTED)

    @property
    def remaining(self) -> int | None:
        """Units left in the window: 0 once Zalo said "out of quota", None when no allowance is set."""
        if self.exhausted_at is not None:
            return 0
        return None if self.allowance is None else max(0, self.allowance - self.used)


WAITING_COUNTED = 10_000


def current(session: Session, settings: Settings, now: datetime | None = None) -> QuotaView:
    """This window's quota, read without writing (a window nothing was sent in shows unused),
    and how many deliveries wait for it (counted up to ``WAITING_COUNTED``: a bounded read)."""
    now = now or utcnow()
    start, end = window_of(now, settings)
    waiting = session.scalar(
        select(func.count()).select_from(
            select(Delivery.id)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.last_error == zalo.WAITING_QUOTA)
            .limit(WAITING_COUNTED)
            .subquery()
        )
    )
    row = session.get(ZaloQuota, start)
    if row is None:
        return QuotaView(start, end, settings.zalo_promotion_quota, 0, None, waiting or 0)
    return QuotaView(
        row.window_start, row.window_end, settings.zalo_promotion_quota, row.used, row.exhausted_at, waiting or 0
    )


@dataclass
class Gate:
    """The batch's ``zalo.PromotionQuota``: each call one short transaction in a thread."""

    unit_of_work: UnitOfWork
    settings: Settings
    closed: bool = False

    async def exhausted(self) -> float:
        """Zalo answered "out of quota": the window is closed for every worker (recorded off the
        event loop); returns the seconds until it reopens."""
        self.closed = True
        return await asyncio.to_thread(self._exhaust)

    def _exhaust(self) -> float:
        with self.unit_of_work() as session:
            return exhaust(session, utcnow(), self.settings)


# A delivery with units left but kept for more recent followers who still wait looks again this soon.
RANKED_RECHECK = 60.0


def _recency(options: Mapping[str, Any], subscription_id: int) -> tuple[int, int]:
    return last_interaction_ms(options), subscription_id


def _waiting_ahead(
    session: Session, batch: Sequence[OutboundMessage], now_ms: int, limit: int
) -> list[tuple[int, int]]:
    """The recency of up to ``limit`` most recent cold followers whose deliveries of the same
    announcements wait outside this batch (pending, known cold by their options): they come
    before this batch's less recent ones. One indexed read per batch, only when units are short."""
    event = func.coalesce(Subscription.options["zalo_event_ms"].as_float(), 0)
    seen = func.coalesce(Subscription.options["zalo_interaction_ms"].as_float(), 0)
    last = case((event > seen, event), else_=seen)
    mark = Subscription.options[COLD_MARK].as_float()
    query = (
        select(Subscription.options, Subscription.id)
        .join(Delivery, Delivery.subscription_id == Subscription.id)
        .where(
            Delivery.announcement_id.in_({m.announcement_id for m in batch}),
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.id.not_in([m.delivery_id for m in batch]),
            Subscription.channel == zalo.ZaloChannel.name,
            or_(and_(mark.is_not(None), mark >= last), and_(last > 0, last < now_ms - WINDOW_MS)),
        )
        .order_by(last.desc(), Subscription.id.desc())
        .limit(limit)
    )
    return [_recency(options or {}, subscription_id) for options, subscription_id in session.execute(query)]


def prepare(
    unit_of_work: UnitOfWork, messages: Sequence[OutboundMessage], now: datetime, settings: Settings
) -> dict[str, object]:
    """The batch's Zalo resources: units for the known-cold followers, most recent first, the
    rest held with the seconds until they look again, and the gate. Empty without Zalo.

    Most recent first holds across batches: when the units left are fewer than the cold
    followers waiting, this batch's are ranked with the announcement's other waiting ones
    and take a unit only within the ranks the units cover; a less recent one waits for the
    next window (or, while units remain for others, a minute, in case those others no
    longer need them)."""
    mine = [m for m in messages if m.channel == zalo.ZaloChannel.name]
    if not mine:
        return {}
    now_ms = int(now.timestamp() * 1000)
    cold = sorted(
        (m for m in mine if known_cold(m.options, now_ms)),
        key=lambda m: _recency(m.options, m.subscription_id),
        reverse=True,
    )
    granted: set[str] = set()
    held: dict[str, float] = {}
    if cold:
        with unit_of_work() as session:
            row = _row(session, now, settings)  # locked: batches rank and take one at a time
            left = _left(row, settings)
            chosen = cold
            if left is not None:
                ahead = _waiting_ahead(session, cold, now_ms, left) if left else []
                top = set(sorted([_recency(m.options, m.subscription_id) for m in cold] + ahead, reverse=True)[:left])
                chosen = [m for m in cold if _recency(m.options, m.subscription_id) in top]
            units, wait = take(session, len(chosen), now, settings)
        granted = {m.delivery_id for m in chosen[:units]}
        # Nothing left: the next window. Units left but ranked to others: look again soon.
        again = wait if left is None or left - units <= 0 else min(wait, RANKED_RECHECK)
        held = {m.delivery_id: again for m in cold if m.delivery_id not in granted}
    return {zalo.GRANTED: frozenset(granted), zalo.HELD: held, zalo.GATE: Gate(unit_of_work, settings)}


def settle(
    unit_of_work: UnitOfWork,
    resources: dict[str, object],
    messages: Sequence[OutboundMessage],
    results: Sequence[SendResult],
    now: datetime,
) -> None:
    """Give back the units of sends that did not go (unless Zalo closed the window)."""
    gate = resources.get(zalo.GATE)
    if not isinstance(gate, Gate) or gate.closed:
        return
    granted = resources.get(zalo.GRANTED)
    holders = granted if isinstance(granted, frozenset) else frozenset()
    unused = sum(1 for m, r in zip(messages, results, strict=True) if m.delivery_id in holders and not r.ok)
    if unused:
        with unit_of_work() as session:
            give_back(session, unused, now, gate.settings)
