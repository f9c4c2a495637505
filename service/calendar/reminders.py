"""Reminders as rows: planned ahead, found when due by beat, sent exactly once.

Each row is unique per key date × occurrence × days before. The due-scan locks rows
with SKIP LOCKED and flips them from planned to sent in the transaction that plans the
announcement, so two beats (or two workers) never send one twice, and a restart
resumes from the rows (ARCHITECTURE.md decisions 2 and 3).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.calendar.announcements import REMINDER_DUE
from service.calendar.occurrences import anniversary_flags, occurrences_between
from service.calendar.text import ReminderText, render_reminder
from service.db.models import (
    Announcement,
    Article,
    ArticleStatus,
    KeyDate,
    OccurrenceDraft,
    Reminder,
    ReminderStatus,
    User,
    UserRole,
)
from service.db.statements import insert_ignoring_duplicates
from service.db.types import utcnow
from service.deliveries.planning import Followers, plan_announcement
from service.staff.announcements import REMINDER as STAFF_REMINDER
from service.staff.notify import tell

log = logging.getLogger(__name__)
# Found due later than this after its time, a reminder is marked late (it still goes).
LATE_AFTER = timedelta(minutes=15)
SCAN_LIMIT = 1000
PLAN_CHUNK = 2000


def due_at(key_date: KeyDate, occurrence: date, offset_days: int, zone: ZoneInfo) -> datetime:
    """When a reminder is due, in UTC: ``send_time`` (``HH:MM`` in ``zone``) ``offset_days`` before the occurrence."""
    hours, minutes = (int(part) for part in key_date.send_time.split(":"))
    local = datetime.combine(occurrence - timedelta(days=offset_days), time(hours, minutes), tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


def _rows_for(key_date: KeyDate, start: date, through: date, zone: ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "key_date_id": key_date.id,
            "occurrence_date": occurrence.date,
            "offset_days": offset,
            "due_at": due_at(key_date, occurrence.date, offset, zone),
            "anniversary": occurrence.anniversary,
            "status": ReminderStatus.PLANNED.value,
            "late": False,
            "created_at": now,
        }
        for occurrence in occurrences_between(key_date, start, through)
        for offset in key_date.offsets
    ]


def plan_key_dates(session: Session, key_dates: Sequence[KeyDate], now: datetime, settings: Settings) -> int:
    """Add the missing reminder rows up to the horizon, in bulk; returns how many were added.

    Rows already there are left alone by the unique (key date, occurrence, offset)
    constraint, so planning twice, or from two beats at once, adds nothing.
    """
    zone = settings.zone
    through = now.astimezone(zone).date() + timedelta(days=settings.reminder_horizon_days)
    rows: list[dict[str, Any]] = []
    for key_date in key_dates:
        start = (
            key_date.planned_through + timedelta(days=1) if key_date.planned_through else now.astimezone(zone).date()
        )
        if not key_date.active or start > through:
            continue
        rows += _rows_for(key_date, start, through, zone, now)
        key_date.planned_through = through
    added = 0
    for chunk in range(0, len(rows), PLAN_CHUNK):
        statement = insert_ignoring_duplicates(session, Reminder).returning(Reminder.id)
        added += len(session.execute(statement, rows[chunk : chunk + PLAN_CHUNK]).all())
    session.flush()
    return added


def plan_key_date(session: Session, key_date: KeyDate, now: datetime, settings: Settings) -> int:
    """Plan one key date's missing reminders (``plan_key_dates``); returns how many rows were added."""
    return plan_key_dates(session, [key_date], now, settings)


def plan_all(session: Session, now: datetime, settings: Settings) -> int:
    """Plan every key date whose rows stop short of the horizon (at most once a day each)."""
    through = now.astimezone(settings.zone).date() + timedelta(days=settings.reminder_horizon_days)
    stale = session.scalars(
        select(KeyDate).where(
            KeyDate.active.is_(True), or_(KeyDate.planned_through.is_(None), KeyDate.planned_through < through)
        )
    ).all()
    return plan_key_dates(session, stale, now, settings)


def replan_key_date(session: Session, key_date: KeyDate, now: datetime, settings: Settings) -> int:
    """After an edit: drop the reminders not yet due and plan them again from the new definition."""
    session.execute(
        delete(Reminder).where(
            Reminder.key_date_id == key_date.id,
            Reminder.status == ReminderStatus.PLANNED,
            Reminder.due_at > now,
        )
    )
    key_date.planned_through = None
    return plan_key_date(session, key_date, now, settings)


@dataclass(frozen=True)
class DueResult:
    sent: list[int]
    late: list[int]
    missed: list[int]
    # Reminders whose key date's template failed: recorded, logged, never retried.
    failed: list[int] = field(default_factory=list)


def due_reminders(session: Session, now: datetime, limit: int = SCAN_LIMIT) -> list[Reminder]:
    """Planned reminders whose time has come, locked for this transaction (SKIP LOCKED)."""
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.status == ReminderStatus.PLANNED, Reminder.due_at <= now)
            .order_by(Reminder.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def send_due(session: Session, now: datetime, settings: Settings) -> DueResult:
    """Announce due reminders; older than the grace period, record them as missed instead.

    Their deliveries are sent once the caller commits. A reminder whose words cannot be
    rendered (a key date's template that fails for these values) is recorded as failed;
    the others are sent all the same.
    """
    grace = timedelta(seconds=settings.reminder_grace_seconds)
    sent: list[int] = []
    late: list[int] = []
    missed: list[int] = []
    failed: list[int] = []
    for reminder in due_reminders(session, now):
        key_date = session.get(KeyDate, reminder.key_date_id)
        overdue = now - reminder.due_at
        if key_date is None or not key_date.active or overdue > grace:
            reminder.status = ReminderStatus.MISSED.value
            missed.append(reminder.id)
            log.warning(
                "reminder %s (%s, %s) missed by %s",
                reminder.id,
                reminder.key_date_id,
                reminder.occurrence_date,
                overdue,
            )
            continue
        reminder.late = overdue > LATE_AFTER
        flags = anniversary_flags(reminder.anniversary)
        try:
            text = render_reminder(
                key_date, reminder.occurrence_date, reminder.anniversary, flags, reminder.offset_days
            )
        except Exception:
            reminder.status = ReminderStatus.FAILED.value
            failed.append(reminder.id)
            log.exception(
                "reminder %s of key date %s (%s, %s days before) not sent: its template failed",
                reminder.id,
                key_date.id,
                reminder.occurrence_date,
                reminder.offset_days,
            )
            continue
        _announce(session, key_date, reminder, text, flags, settings)
        reminder.status = ReminderStatus.SENT.value
        reminder.sent_at = now
        (late if reminder.late else sent).append(reminder.id)
    session.flush()
    return DueResult(sent, late, missed, failed)


def _announce(
    session: Session,
    key_date: KeyDate,
    reminder: Reminder,
    text: ReminderText,
    flags: tuple[str, ...],
    settings: Settings,
) -> None:
    """Plan the reminder's announcement; its deliveries are sent once the caller commits."""
    payload = {
        "reminder": {
            "id": reminder.id,
            "key_date_id": key_date.id,
            "name": key_date.name,
            "name_en": key_date.name_en,
            "calendar": key_date.calendar,
            "occurrence_date": reminder.occurrence_date.isoformat(),
            "anniversary": reminder.anniversary,
            "flags": list(flags),
            "days_before": reminder.offset_days,
            "late": reminder.late,
        },
        "text": {"vi": text.vi, "en": text.en},
    }
    targets = key_date.events_to or {}
    plan_announcement(
        session,
        source_key=f"reminder:{reminder.id}",
        event_type=REMINDER_DUE,
        payload=payload,
        # Deliveries run on the real clock (retries, leases), whatever clock the calendar reads.
        now=utcnow(),
        settings=settings,
        audience=Followers(
            channels=tuple(targets.get("channels") or ()), subscription_ids=tuple(targets.get("subscription_ids") or ())
        ),
    )
    reminder.announcement_id = session.scalar(
        select(Announcement.id).where(Announcement.source_key == f"reminder:{reminder.id}")
    )
    _tell_staff_if_no_article(session, key_date, reminder, settings)


def _tell_staff_if_no_article(session: Session, key_date: KeyDate, reminder: Reminder, settings: Settings) -> None:
    """ "Còn 7 ngày: … — chưa có bài" to the editors and admins (their notification addresses,
    decision 0042) when no article is drafted for the occurrence: no calendar draft linked to it
    (``occurrence_drafts``, decision 0011), or only a withdrawn one."""
    drafted = session.scalar(
        select(OccurrenceDraft.article_id)
        .join(Article, Article.id == OccurrenceDraft.article_id)
        .where(
            OccurrenceDraft.key_date_id == key_date.id,
            OccurrenceDraft.occurrence_date == reminder.occurrence_date,
            Article.status != ArticleStatus.WITHDRAWN,
        )
    )
    if drafted is not None:
        return
    editors = session.scalars(
        select(User).where(User.active.is_(True), User.role.in_([UserRole.EDITOR.value, UserRole.ADMIN.value]))
    )
    day = reminder.occurrence_date
    tell(
        session,
        kind=STAFF_REMINDER,
        source_key=f"staff:reminder:{reminder.id}",
        users=list(editors),
        payload={
            "key_date_id": key_date.id,
            "name": key_date.name,
            "days": reminder.offset_days,
            "date": f"{day:%d/%m/%Y}",
            "path": f"/console/calendar?month={day:%Y-%m}",
        },
        now=utcnow(),
        settings=settings,
    )
