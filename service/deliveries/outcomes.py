"""Write a batch's results: deliveries and attempts in bulk, then subscription health."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription, SubscriptionStatus
from service.db.statements import among
from service.deliveries.retry import next_attempt_at

log = logging.getLogger(__name__)
LAST_SUCCESS_PRECISION = timedelta(minutes=1)
# A delivery whose destination refused our credential waits this long before it is claimed
# again; the claim then holds it back while its subscription stays paused.
PAUSED_DELIVERY_WAIT = timedelta(minutes=1)


@dataclass(frozen=True)
class _Row:
    """What one result writes to its delivery row (and, if ``attempted``, to the attempt log)."""

    delivery_id: str
    claim_token: str | None
    status: str
    attempted: bool
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    duration_ms: int
    remote_id: str | None = None


def record_results(
    session: Session, outcomes: Sequence[tuple[OutboundMessage, SendResult]], now: datetime, settings: Settings
) -> list[int]:
    """Returns the ids of subscriptions disabled by these results.

    This is the one place that acts on a destination's "gone" answer (decision 0039): an
    ``Ending.ENDED`` disables the subscription at once and fails its delivery; an
    ``Ending.PAUSED`` pauses it and keeps the delivery pending, held back until an admin
    resumes it. Either way the status reason is the service's words. A delivered row keeps
    the id its destination gave it (``remote_id``) in the same statement that marks it done.

    A row is written only while the claim that sent it still holds it (same claim token,
    still sending): a batch that outlived its lease, whose rows the sweep released to
    another batch, leaves them and their attempt log to that batch. Subscription health
    counts every answer seen, stale or not: it is what the destination did.
    """
    rows: list[_Row] = []
    succeeded: set[int] = set()
    failed: set[int] = set()
    gone: dict[int, str] = {}
    paused: dict[int, str] = {}
    moved: dict[int, str] = {}
    learnt: dict[int, dict[str, Any]] = {}
    for message, result in outcomes:
        if result.keep:
            learnt.setdefault(message.subscription_id, {}).update(result.keep)
        if result.moved_to is not None:
            # Tried and answered "I live elsewhere now": sent again at once to the new
            # target, which the claim reads from the subscription; not a failure.
            retry_at: datetime | None = now
            status = DeliveryStatus.PENDING.value
            moved[message.subscription_id] = result.moved_to
        elif result.deferred:
            retry_at = now + timedelta(seconds=result.retry_after or 1)
            status = DeliveryStatus.PENDING.value
        elif result.ok:
            retry_at, status = None, DeliveryStatus.DELIVERED.value
            succeeded.add(message.subscription_id)
        else:
            failed.add(message.subscription_id)
            made = message.attempts_made + 1
            if result.gone is Ending.ENDED:
                retry_at = None
                gone[message.subscription_id] = result.error or "destination is gone"
            elif result.gone is Ending.PAUSED:
                retry_at = now + PAUSED_DELIVERY_WAIT
                paused[message.subscription_id] = result.error or "credential refused"
            else:
                retry_at = next_attempt_at(now, made, settings.delivery_retry_schedule, result.retry_after)
            status = DeliveryStatus.FAILED.value if retry_at is None else DeliveryStatus.PENDING.value
        rows.append(
            _Row(
                message.delivery_id,
                message.claim_token,
                status,
                not result.deferred,
                result.status_code,
                result.error,
                retry_at,
                result.duration_ms,
                result.remote_id if result.ok else None,
            )
        )
    # Subscriptions first, deliveries second: the order in which deleting a subscription
    # (a cascade from subscriptions to deliveries) takes its locks, so the two never deadlock.
    _remember(session, learnt)
    for subscription_id, target in moved.items():
        move_target(session, subscription_id, target, "moved to the target its destination named", now)
    for subscription_id, reason in paused.items():
        pause_subscription(session, subscription_id, reason, now)
    disabled = _update_health(session, succeeded, failed - succeeded, gone, now, settings)
    if session.get_bind().dialect.name == "postgresql":
        written = _write_rows_pg(session, rows, now)
    else:
        written = _write_rows_grouped(session, rows, now)
    if written < len(outcomes):
        log.warning("%d results of a batch that lost its claim were not written", len(outcomes) - written)
    # This batch's own rows of a subscription it just disabled were written pending above.
    fail_pending(session, disabled, "subscription disabled")
    return disabled


def _remember(session: Session, learnt: dict[int, dict[str, Any]]) -> None:
    """Merge what answers taught us into their subscriptions' options (``SendResult.keep``)."""
    if not learnt:
        return
    rows = session.execute(
        select(Subscription.id, Subscription.options)
        .where(Subscription.id.in_(learnt))
        .order_by(Subscription.id)
        .with_for_update()
    ).all()
    for subscription_id, options in rows:
        session.execute(
            update(Subscription)
            .where(Subscription.id == subscription_id)
            .values(options={**(options or {}), **learnt[subscription_id]})
            .execution_options(synchronize_session=False)
        )


def _write_rows_grouped(session: Session, rows: Sequence[_Row], now: datetime) -> int:
    """Rows that end the same way (the common case: delivered with one status code) are
    written with one UPDATE per group, ``attempts = attempts + 1`` done by the database;
    then the attempts of the rows written, in one INSERT. For SQLite; returns rows written."""
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = defaultdict(list)
    for row in rows:
        values: dict[str, Any] = {"lease_until": None, "claim_token": row.claim_token, "status": row.status}
        if row.next_attempt_at is not None:
            values["next_attempt_at"] = row.next_attempt_at
        if row.attempted:
            values.update(attempted=True, last_status_code=row.status_code, last_error=row.error)
        elif row.error is not None:
            values["last_error"] = row.error  # why it waits (a Zalo quota): not an attempt, but logged
        if row.status == DeliveryStatus.DELIVERED:
            values["delivered_at"] = now
        if row.remote_id is not None:
            values["remote_id"] = row.remote_id
        groups[tuple(sorted(values.items()))].append(row.delivery_id)
    written: set[str] = set()
    for key, ids in groups.items():
        values = dict(key)
        claim_token = values.pop("claim_token")
        if values.pop("attempted", False):
            values["attempts"] = Delivery.attempts + 1
        written.update(
            session.scalars(
                update(Delivery)
                .where(
                    Delivery.id.in_(ids),
                    Delivery.claim_token == claim_token,
                    Delivery.status == DeliveryStatus.SENDING,
                )
                .values(**values, claim_token=None)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            )
        )
    kept = [
        {
            "delivery_id": row.delivery_id,
            "attempted_at": now,
            "status_code": row.status_code,
            "error": row.error,
            "duration_ms": row.duration_ms,
        }
        for row in rows
        if row.attempted and row.delivery_id in written
    ]
    if kept:
        session.execute(insert(DeliveryAttempt), kept)
    return len(written)


def _write_rows_pg(session: Session, rows: Sequence[_Row], now: datetime) -> int:
    """PostgreSQL: every row and its attempt in one statement, one round trip, the batch
    bound as one array per column (unnest). Returns rows written."""
    columns = {
        "ids": [r.delivery_id for r in rows],
        "tokens": [r.claim_token for r in rows],
        "statuses": [r.status for r in rows],
        "attempted": [r.attempted for r in rows],
        "status_codes": [r.status_code for r in rows],
        "errors": [r.error for r in rows],
        "next_attempts": [r.next_attempt_at for r in rows],
        "durations": [r.duration_ms for r in rows],
        "remote_ids": [r.remote_id for r in rows],
    }
    return int(session.execute(_PG_RECORD, {**columns, "now": now}).scalar_one())


# The same writes as _write_rows_grouped: only rows this claim still holds; attempts + 1,
# the last answer and an attempt row only when the destination was tried (not deferred);
# a deferral that says why (a Zalo quota) leaves its words as the last error.
_PG_RECORD = text("""
    WITH results AS (
        SELECT * FROM unnest(
            CAST(:ids AS text[]), CAST(:tokens AS text[]), CAST(:statuses AS text[]),
            CAST(:attempted AS boolean[]), CAST(:status_codes AS integer[]), CAST(:errors AS text[]),
            CAST(:next_attempts AS timestamptz[]), CAST(:durations AS integer[]), CAST(:remote_ids AS text[])
        ) AS r(id, claim_token, status, attempted, status_code, error, next_attempt_at, duration_ms, remote_id)
    ), written AS (
        UPDATE deliveries d
        SET status = r.status,
            lease_until = NULL,
            claim_token = NULL,
            next_attempt_at = COALESCE(r.next_attempt_at, d.next_attempt_at),
            delivered_at = CASE WHEN r.status = 'delivered' THEN CAST(:now AS timestamptz) ELSE d.delivered_at END,
            attempts = d.attempts + CASE WHEN r.attempted THEN 1 ELSE 0 END,
            last_status_code = CASE WHEN r.attempted THEN r.status_code ELSE d.last_status_code END,
            last_error = CASE WHEN r.attempted OR r.error IS NOT NULL THEN r.error ELSE d.last_error END,
            remote_id = COALESCE(r.remote_id, d.remote_id)
        FROM results r
        WHERE d.id = r.id AND d.claim_token = r.claim_token AND d.status = 'sending'
        RETURNING d.id
    ), logged AS (
        INSERT INTO delivery_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
        SELECT r.id, CAST(:now AS timestamptz), r.status_code, r.error, r.duration_ms
        FROM results r JOIN written w ON w.id = r.id
        WHERE r.attempted
    )
    SELECT count(*) FROM written
""")


def _update_health(
    session: Session, succeeded: set[int], failed: set[int], gone: dict[int, str], now: datetime, settings: Settings
) -> list[int]:
    if succeeded:
        # last_success_at is kept to the minute: most successes then write nothing.
        _update_locked(
            session,
            (
                among(session, Subscription.id, succeeded),
                or_(
                    Subscription.failing_since.is_not(None),
                    Subscription.last_success_at.is_(None),
                    Subscription.last_success_at < now - LAST_SUCCESS_PRECISION,
                ),
            ),
            {"last_success_at": now, "failing_since": None},
        )
    if failed:
        _update_locked(
            session,
            (among(session, Subscription.id, failed), Subscription.failing_since.is_(None)),
            {"failing_since": now},
        )
    disabled = dict(gone)
    window = timedelta(seconds=settings.subscription_disable_after_seconds)
    if failed:
        stale = session.execute(
            select(Subscription.id, Subscription.failing_since).where(
                among(session, Subscription.id, failed), Subscription.failing_since < now - window
            )
        ).all()
        for subscription_id, since in stale:
            disabled.setdefault(subscription_id, f"failing without a success since {since.isoformat()}")
    for subscription_id, reason in disabled.items():
        disable_subscription(session, subscription_id, reason, now)
    return list(disabled)


def _update_locked(session: Session, where: tuple[Any, ...], values: dict[str, Any]) -> None:
    """Lock the rows in id order while updating them, in one statement: batches running
    side by side (and a subscription being deleted) take these locks in one order and
    cannot deadlock. (PostgreSQL locks the subquery's rows as they come out of its sort;
    SQLite, which has no row locks, drops the FOR UPDATE: its transaction holds the whole
    database from BEGIN IMMEDIATE, decision 0027.)

    FOR NO KEY UPDATE, the lock the UPDATE itself takes (no key column changes): FOR UPDATE
    would also wait for, and block, the FOR KEY SHARE locks that each new delivery's
    foreign key check takes — a planning chunk of another announcement holds 50,000 of
    them until it commits. Deleting a subscription (FOR UPDATE) still conflicts with it."""
    locked = select(Subscription.id).where(*where).order_by(Subscription.id).with_for_update(key_share=True)
    session.execute(
        update(Subscription)
        .where(Subscription.id.in_(locked.scalar_subquery()))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def disable_subscription(session: Session, subscription_id: int, reason: str, now: datetime) -> bool:
    """Disable an active subscription (or a staff member's notification address, which they
    link again to revive) and fail its pending deliveries; False if it was neither."""
    changed = session.execute(
        update(Subscription)
        .where(
            Subscription.id == subscription_id,
            Subscription.status.in_((SubscriptionStatus.ACTIVE, SubscriptionStatus.STAFF)),
        )
        .values(status=SubscriptionStatus.DISABLED.value, status_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount:  # type: ignore[attr-defined]
        log.warning("subscription %s disabled: %s", subscription_id, reason, extra={"subscription_id": subscription_id})
        # Its other pending deliveries would only fail again.
        fail_pending(session, [subscription_id], f"subscription disabled: {reason}")
        return True
    return False


def pause_subscription(session: Session, subscription_id: int, reason: str, now: datetime) -> bool:
    """Pause an active subscription whose destination refused our credential (a revoked Page
    access token, decision 0039); its deliveries wait until an admin resumes it. False if it
    was not active."""
    changed = session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.status == SubscriptionStatus.ACTIVE)
        .values(status=SubscriptionStatus.PAUSED.value, status_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount:  # type: ignore[attr-defined]
        log.warning("subscription %s paused: %s", subscription_id, reason, extra={"subscription_id": subscription_id})
        return True
    return False


def move_target(session: Session, subscription_id: int, target: str, reason: str, now: datetime) -> bool:
    """Point a subscription at the new ``target`` its destination named (a Telegram group
    upgraded to a supergroup, Bot API ``migrate_to_chat_id``); its categories, consent and
    pending deliveries stay. When another subscription of the same channel already has
    that target, this one is disabled instead, so the chat does not get everything twice.
    ``reason`` is logged: it names no target (a chat id may be a person's). False when
    the subscription does not exist or is there already."""
    subscription = session.get(Subscription, subscription_id, with_for_update=True)
    if subscription is None or subscription.target == target:
        return False
    taken = session.scalar(
        select(Subscription.id).where(
            Subscription.channel == subscription.channel,
            Subscription.target == target,
            Subscription.id != subscription_id,
        )
    )
    if taken is not None:
        return disable_subscription(session, subscription_id, f"{reason}, which subscription {taken} has", now)
    log.info("subscription %s %s", subscription_id, reason, extra={"subscription_id": subscription_id})
    subscription.target = target
    subscription.updated_at = now
    return True


def fail_pending(session: Session, subscription_ids: Sequence[int], reason: str) -> None:
    """Mark the pending deliveries of these subscriptions failed with ``reason`` (cut to 300 characters)."""
    if subscription_ids:
        session.execute(
            update(Delivery)
            .where(
                among(session, Delivery.subscription_id, subscription_ids), Delivery.status == DeliveryStatus.PENDING
            )
            .values(status=DeliveryStatus.FAILED.value, last_error=reason[:300])
            .execution_options(synchronize_session=False)
        )
