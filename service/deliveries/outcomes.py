"""Write a batch's results: deliveries and attempts in bulk, then subscription health."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.channels.messages import OutboundMessage, SendResult
from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription, SubscriptionStatus
from service.deliveries.retry import next_attempt_at

log = logging.getLogger(__name__)
LAST_SUCCESS_PRECISION = timedelta(minutes=1)


def record_results(
    session: Session, outcomes: Sequence[tuple[OutboundMessage, SendResult]], now: datetime, settings: Settings
) -> list[int]:
    """Returns the ids of subscriptions disabled by these results.

    Rows that end the same way (the common case: delivered with one status code) are
    written with one UPDATE per group, ``attempts = attempts + 1`` done by the database.
    A row is written only while the claim that sent it still holds it (same claim token,
    still sending): a batch that outlived its lease, whose rows the sweep released to
    another batch, leaves them and their attempt log to that batch. Subscription health
    counts every answer seen, stale or not: it is what the destination did.
    """
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = defaultdict(list)
    attempts: dict[str, dict[str, Any]] = {}
    succeeded: set[int] = set()
    failed: set[int] = set()
    gone: dict[int, str] = {}
    for message, result in outcomes:
        values: dict[str, Any] = {"lease_until": None, "claim_token": message.claim_token}
        if result.deferred:
            values.update(
                status=DeliveryStatus.PENDING.value, next_attempt_at=now + timedelta(seconds=result.retry_after or 1)
            )
            groups[tuple(sorted(values.items()))].append(message.delivery_id)
            continue
        made = message.attempts_made + 1
        values.update(attempted=True, last_status_code=result.status_code, last_error=result.error)
        attempts[message.delivery_id] = {
            "delivery_id": message.delivery_id,
            "attempted_at": now,
            "status_code": result.status_code,
            "error": result.error,
            "duration_ms": result.duration_ms,
        }
        if result.ok:
            values.update(status=DeliveryStatus.DELIVERED.value, delivered_at=now)
            succeeded.add(message.subscription_id)
        else:
            failed.add(message.subscription_id)
            retry_at = (
                None
                if result.gone
                else next_attempt_at(now, made, settings.delivery_retry_schedule, result.retry_after)
            )
            if retry_at is None:
                values.update(status=DeliveryStatus.FAILED.value)
            else:
                values.update(status=DeliveryStatus.PENDING.value, next_attempt_at=retry_at)
            if result.gone:
                gone[message.subscription_id] = result.error or "destination is gone"
        groups[tuple(sorted(values.items()))].append(message.delivery_id)
    # Subscriptions first, deliveries second: the order in which deleting a subscription
    # (a cascade from subscriptions to deliveries) takes its locks, so the two never deadlock.
    disabled = _update_health(session, succeeded, failed - succeeded, gone, now, settings)
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
    if len(written) < len(outcomes):
        log.warning("%d results of a batch that lost its claim were not written", len(outcomes) - len(written))
    kept = [attempt for delivery_id, attempt in attempts.items() if delivery_id in written]
    if kept:
        session.execute(insert(DeliveryAttempt), kept)
    # This batch's own rows of a subscription it just disabled were written pending above.
    fail_pending(session, disabled, "subscription disabled")
    return disabled


def _update_health(
    session: Session, succeeded: set[int], failed: set[int], gone: dict[int, str], now: datetime, settings: Settings
) -> list[int]:
    if succeeded:
        # last_success_at is kept to the minute: most successes then write nothing.
        _update_locked(
            session,
            (
                Subscription.id.in_(succeeded),
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
            session, (Subscription.id.in_(failed), Subscription.failing_since.is_(None)), {"failing_since": now}
        )
    disabled = dict(gone)
    window = timedelta(seconds=settings.subscription_disable_after_seconds)
    if failed:
        stale = session.execute(
            select(Subscription.id, Subscription.failing_since).where(
                Subscription.id.in_(failed), Subscription.failing_since < now - window
            )
        ).all()
        for subscription_id, since in stale:
            disabled.setdefault(subscription_id, f"failing without a success since {since.isoformat()}")
    for subscription_id, reason in disabled.items():
        disable_subscription(session, subscription_id, reason, now)
    return list(disabled)


def _update_locked(session: Session, where: tuple[Any, ...], values: dict[str, Any]) -> None:
    """Lock the rows in id order, then update them: batches running side by side (and a
    subscription being deleted) take these locks in one order and cannot deadlock."""
    ids = list(session.scalars(select(Subscription.id).where(*where).order_by(Subscription.id).with_for_update()))
    if ids:
        session.execute(
            update(Subscription)
            .where(Subscription.id.in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def disable_subscription(session: Session, subscription_id: int, reason: str, now: datetime) -> bool:
    changed = session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.status == SubscriptionStatus.ACTIVE)
        .values(status=SubscriptionStatus.DISABLED.value, status_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount:  # type: ignore[attr-defined]
        log.warning("subscription %s disabled: %s", subscription_id, reason, extra={"subscription_id": subscription_id})
        # Its other pending deliveries would only fail again.
        fail_pending(session, [subscription_id], f"subscription disabled: {reason}")
        return True
    return False


def fail_pending(session: Session, subscription_ids: Sequence[int], reason: str) -> None:
    if subscription_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.subscription_id.in_(subscription_ids), Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.FAILED.value, last_error=reason[:300])
            .execution_options(synchronize_session=False)
        )
