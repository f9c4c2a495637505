"""Digests as rows: each tick plans the due periods, once per subscriber and period.

A digest row is unique per (subscription, period start). A tick inserts the rows of
the subscribers that have none for a due period, ``ON CONFLICT DO NOTHING … RETURNING``,
and plans delivery rows only for the rows it inserted itself, in the same transaction:
two beats (or a tick that overlaps the next) plan each digest once, and a worker killed
mid-tick leaves only whole chunks behind, which the next tick skips (ARCHITECTURE.md
decisions 2 and 3). Each chunk is its own transaction, so 100,000 readers never wait on
one long one. The mail itself is a delivery like any announcement: leases, retries, the
log. A period found more than BANTIN_DIGEST_GRACE_HOURS late is recorded as missed for
each subscriber; its articles are carried over to the next digest (``digest_since`` does
not move). A period whose every row exists is recorded in ``digest_periods``, so later
ticks skip it in one look-up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service import task_names
from service.db.after_commit import defer_batched
from service.db.engine import UnitOfWork
from service.db.models import (
    Announcement,
    Article,
    ArticleStatus,
    Category,
    Digest,
    DigestPeriod,
    DigestStatus,
    Subscription,
    SubscriptionStatus,
    article_categories,
)
from service.db.statements import among, insert_ignoring_duplicates
from service.db.types import utcnow
from service.deliveries.planning import create_announcement, insert_deliveries, new_delivery_id
from service.digests.periods import FREQUENCIES, Frequency, due_instants, is_missed

log = logging.getLogger(__name__)
DIGEST = "reader.digest"  # the announcement type of a digest period
# How far back a tick looks for periods not completed (downtime longer than this leaves
# no missed rows, but the next digest still carries the articles).
LOOKBACK = timedelta(days=14)
CHUNK = 2000  # subscribers per transaction
MAX_ARTICLES = 30  # newest first; a longer digest is cut here
# A digest never reaches further back than this, however long a reader was away.
MAX_AGE = timedelta(days=31)
ARTICLE_SCAN_LIMIT = 1000  # candidate articles read per category set and chunk


@dataclass
class TickResult:
    queued: int = 0  # digests with a delivery planned
    empty: int = 0  # nothing new: no mail
    missed: int = 0
    periods_completed: int = 0


def digest_source_key(frequency: str, period_start: datetime) -> str:
    """The announcement of one frequency's period: ``digest:daily:2026-11-30T23:30Z``."""
    return f"digest:{frequency}:{period_start:%Y-%m-%dT%H:%MZ}"


def tick(unit_of_work: UnitOfWork, now: datetime, settings: Settings, budget_seconds: float) -> TickResult:
    """Plan (or record as missed) every due period not completed within LOOKBACK, oldest first.

    ``now`` is the clock the periods are read from (``service.clock``); deliveries run on
    the real clock. Stops starting chunks after ``budget_seconds``; the next tick goes on
    from the rows. Commits once per chunk through ``unit_of_work``.
    """
    started = time.monotonic()
    result = TickResult()
    for frequency in FREQUENCIES:
        with unit_of_work() as session:
            done = set(
                session.scalars(
                    select(DigestPeriod.period_start).where(
                        DigestPeriod.frequency == frequency, DigestPeriod.period_start > now - LOOKBACK
                    )
                )
            )
        for period_start in due_instants(frequency, now - LOOKBACK, now, settings):
            if period_start in done:
                continue
            if not _plan_period(unit_of_work, frequency, period_start, now, settings, result, started, budget_seconds):
                return result
    return result


def _plan_period(
    unit_of_work: UnitOfWork,
    frequency: Frequency,
    period_start: datetime,
    now: datetime,
    settings: Settings,
    result: TickResult,
    started: float,
    budget_seconds: float,
) -> bool:
    """Every chunk of one period; False when the budget ran out first."""
    missed = is_missed(period_start, now, settings)
    after = 0
    while time.monotonic() - started < budget_seconds:
        with unit_of_work() as session:
            candidates = owed_subscribers(session, frequency, period_start, after, CHUNK)
            if candidates:
                after = candidates[-1].id
                if missed:
                    result.missed += _record_missed(session, frequency, period_start, candidates)
                else:
                    queued, empty = plan_chunk(session, frequency, period_start, candidates, settings)
                    result.queued += queued
                    result.empty += empty
            if len(candidates) < CHUNK:
                session.execute(
                    insert_ignoring_duplicates(session, DigestPeriod).values(
                        frequency=frequency, period_start=period_start, completed_at=utcnow()
                    )
                )
                result.periods_completed += 1
                return True
    return False


def owed_subscribers(
    session: Session, frequency: str, period_start: datetime, after: int, limit: int
) -> Sequence[Row[Any]]:
    """Active e-mail subscriptions of ``frequency`` that subscribed before ``period_start``
    and have no digest for it, ids above ``after``, in id order: ``(id, categories, since)``."""
    since = func.coalesce(Subscription.digest_since, Subscription.created_at)
    has_row = (
        select(Digest.id).where(Digest.subscription_id == Subscription.id, Digest.period_start == period_start).exists()
    )
    return session.execute(
        select(Subscription.id, Subscription.categories, since.label("since"))
        .where(
            Subscription.channel == "email",
            Subscription.status == SubscriptionStatus.ACTIVE,
            Subscription.frequency == frequency,
            Subscription.id > after,
            since < period_start,
            ~has_row,
        )
        .order_by(Subscription.id)
        .limit(limit)
    ).all()


def articles_between(
    session: Session, slugs: Sequence[str], after: datetime, through: datetime
) -> list[tuple[int, datetime]]:
    """Published articles in ``(after, through]`` in any of ``slugs`` (all when empty).

    ``(id, published_at)`` pairs, newest first, at most ARTICLE_SCAN_LIMIT."""
    query = select(Article.id, Article.published_at).where(
        Article.status == ArticleStatus.PUBLISHED, Article.published_at > after, Article.published_at <= through
    )
    if slugs:
        in_categories = (
            select(article_categories.c.article_id)
            .join(Category, Category.id == article_categories.c.category_id)
            .where(Category.slug.in_(list(slugs)))
        )
        query = query.where(Article.id.in_(in_categories))
    rows = session.execute(query.order_by(Article.published_at.desc(), Article.id.desc()).limit(ARTICLE_SCAN_LIMIT))
    return [(row.id, row.published_at) for row in rows]


def plan_chunk(
    session: Session, frequency: str, period_start: datetime, candidates: Sequence[Row[Any]], settings: Settings
) -> tuple[int, int]:
    """Digest rows for ``candidates`` (from ``owed_subscribers``) and a delivery for each one
    with something new; returns (queued, empty) among the rows this call inserted."""
    floor = period_start - MAX_AGE
    oldest = max(floor, min(row.since for row in candidates))
    # Readers share a handful of category choices: read each choice's articles once.
    by_choice: dict[tuple[str, ...], list[tuple[int, datetime]]] = {}
    created = utcnow()
    rows = []
    for candidate in candidates:
        choice = tuple(sorted(candidate.categories or ()))
        if choice not in by_choice:
            by_choice[choice] = articles_between(session, choice, oldest, period_start)
        since = max(candidate.since, floor)
        article_ids = [article_id for article_id, published in by_choice[choice] if published > since][:MAX_ARTICLES]
        rows.append(
            {
                "subscription_id": candidate.id,
                "frequency": frequency,
                "period_start": period_start,
                "covers_from": candidate.since,
                "status": DigestStatus.QUEUED.value if article_ids else DigestStatus.EMPTY.value,
                "article_ids": article_ids,
                "delivery_id": new_delivery_id() if article_ids else None,
                "created_at": created,
            }
        )
    inserted = session.execute(
        insert_ignoring_duplicates(session, Digest).returning(Digest.subscription_id, Digest.delivery_id), rows
    ).all()
    if not inserted:
        return 0, 0  # another tick planned this chunk first
    queued = [row for row in inserted if row.delivery_id is not None]
    if queued:
        announcement_id = _announcement(session, frequency, period_start)
        subscribers, named = [r.subscription_id for r in queued], [r.delivery_id for r in queued]
        ids = insert_deliveries(session, announcement_id, subscribers, created, settings, named)
        defer_batched(session, task_names.SEND_DELIVERY_BATCH, ids)
    # What the next digest owes starts here, for the readers this call planned.
    session.execute(
        update(Subscription)
        .where(
            among(session, Subscription.id, [r.subscription_id for r in inserted]),
            func.coalesce(Subscription.digest_since, Subscription.created_at) < period_start,
        )
        .values(digest_since=period_start)
        .execution_options(synchronize_session=False)
    )
    return len(queued), len(inserted) - len(queued)


def _announcement(session: Session, frequency: str, period_start: datetime) -> int:
    source_key = digest_source_key(frequency, period_start)
    payload = {"frequency": frequency, "period_start": period_start.isoformat()}
    created = create_announcement(session, source_key, DIGEST, payload, utcnow())
    if created is not None:
        return created
    return int(session.scalars(select(Announcement.id).where(Announcement.source_key == source_key)).one())


def _record_missed(session: Session, frequency: str, period_start: datetime, candidates: Sequence[Row[Any]]) -> int:
    created = utcnow()
    rows = [
        {
            "subscription_id": c.id,
            "frequency": frequency,
            "period_start": period_start,
            "covers_from": c.since,
            "status": DigestStatus.MISSED.value,
            "article_ids": [],
            "delivery_id": None,
            "created_at": created,
        }
        for c in candidates
    ]
    inserted = len(session.execute(insert_ignoring_duplicates(session, Digest).returning(Digest.id), rows).all())
    if inserted:
        log.warning("%s digest of %s missed for %d subscribers", frequency, period_start.isoformat(), inserted)
    return inserted
