"""Key dates: create, change (re-planning reminders), remove, read; and the seed file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.audit.log import plain, record
from service.calendar.ics import build_calendar, years_for
from service.calendar.occurrences import Occurrence, occurrences_between, occurrences_in_year
from service.calendar.reminders import plan_key_date, replan_key_date
from service.calendar.schemas import KeyDateIn, KeyDateUpdate, check_date
from service.calendar.text import check_templates
from service.db.locks import transaction_lock
from service.db.models import FeedDocument, KeyDate, Reminder
from service.db.statements import insert_ignoring_duplicates
from service.errors import Conflict, InvalidField, NotFound
from service.feeds.documents import CALENDAR_FORMAT, announce_changes, store_document
from service.feeds.scopes import CALENDAR

DATE_FIELDS = ("calendar", "day", "month", "leap_month", "origin_year")
TEMPLATE_INPUTS = ("templates", "offsets", "name", "name_en", *DATE_FIELDS)
# DTSTAMP of a calendar without key dates: fixed, so an empty calendar renders the same bytes.
EMPTY_CALENDAR_STAMP = datetime(2020, 1, 1, tzinfo=UTC)


def create_key_date(
    session: Session, data: KeyDateIn, now: datetime, settings: Settings, source: str = "api"
) -> KeyDate:
    """Store a new key date, plan its reminders and mark /calendar.ics for rendering again.

    Raises Conflict (409) when the id exists, also when two requests race for it.
    """
    key_date = _add_key_date(session, data, now, settings, source)
    record(session, "key_date.create", "key_date", key_date.id, None, _audited(key_date), now)
    mark_calendar_stale(session)
    return key_date


def _audited(key_date: KeyDate) -> dict[str, Any]:
    """What the audit log compares of a key date: every column but its bookkeeping times."""
    names = [c.key for c in KeyDate.__table__.columns if c.key not in ("created_at", "updated_at")]
    return {name: plain(getattr(key_date, name)) for name in names}


def _add_key_date(session: Session, data: KeyDateIn, now: datetime, settings: Settings, source: str) -> KeyDate:
    assert data.id is not None
    # ON CONFLICT DO NOTHING: of two requests creating one id at once, the second gets 409,
    # not a unique violation.
    statement = insert_ignoring_duplicates(session, KeyDate).returning(KeyDate.id)
    row = {**data.model_dump(), "source": source, "created_at": now, "updated_at": now}
    if session.execute(statement, [row]).first() is None:
        raise Conflict(f"key date {data.id!r} exists already; PATCH it or choose another id")
    key_date = get_key_date(session, data.id)
    plan_key_date(session, key_date, now, settings)
    return key_date


def get_key_date(session: Session, key_date_id: str) -> KeyDate:
    """The key date with this id; NotFound otherwise."""
    key_date = session.get(KeyDate, key_date_id)
    if key_date is None:
        raise NotFound(f"key date {key_date_id!r} does not exist")
    return key_date


def list_key_dates(session: Session) -> list[KeyDate]:
    """Every key date, in calendar order (month, day, id)."""
    return list(session.scalars(select(KeyDate).order_by(KeyDate.month, KeyDate.day, KeyDate.id)))


def update_key_date(
    session: Session, key_date_id: str, data: KeyDateUpdate, now: datetime, settings: Settings
) -> KeyDate:
    """Apply a PATCH to a key date and re-plan its reminders.

    Raises NotFound for an unknown id, and InvalidField naming the field for a date that
    does not exist or a template that does not render.
    """
    key_date = get_key_date(session, key_date_id)
    before = _audited(key_date)
    changes = data.changes()  # a null only where it clears (KeyDateUpdate.CLEARABLE)
    merged = {name: changes.get(name, getattr(key_date, name)) for name in DATE_FIELDS}
    try:
        check_date(**merged)
    except ValueError as exc:  # PydanticCustomError is a ValueError
        context = dict(getattr(exc, "context", None) or {})
        context.pop("english", None)
        field, code = str(context.pop("field", "day")), str(context.pop("code"))
        raise InvalidField(field, code, **context) from None
    if any(name in changes for name in TEMPLATE_INPUTS):
        # The templates are tried on what the key date will be, not on one field alone.
        fields = {column.key: getattr(key_date, column.key) for column in KeyDate.__table__.columns}
        fields.update({name: changes[name] for name in TEMPLATE_INPUTS if name in changes})
        try:
            check_templates(KeyDate(**fields))
        except ValueError as exc:
            raise InvalidField("templates", "template", reason=str(exc)) from None
    for name, value in changes.items():
        setattr(key_date, name, value)
    key_date.updated_at = now
    session.flush()
    record(session, "key_date.update", "key_date", key_date.id, before, _audited(key_date), now)
    replan_key_date(session, key_date, now, settings)
    mark_calendar_stale(session)
    return key_date


def delete_key_date(session: Session, key_date_id: str) -> None:
    """Delete a key date (its reminders go with it); NotFound for an unknown id."""
    key_date = get_key_date(session, key_date_id)
    record(session, "key_date.delete", "key_date", key_date.id, _audited(key_date))
    session.delete(key_date)
    session.flush()
    mark_calendar_stale(session)


def sync_seed_file(session: Session, entries: Sequence[KeyDateIn], now: datetime, settings: Settings) -> list[str]:
    """Add the file's key dates that the database does not have; edits made through the
    API are never overwritten by the file. Returns the ids added.

    Every API process runs this at start; the lock keeps two of them from adding the
    same key date at once (the second would fail on the primary key and not start).
    """
    transaction_lock(session, "key-dates-seed")
    known = set(session.scalars(select(KeyDate.id)))
    added = []
    for entry in entries:
        if entry.id not in known:
            _add_key_date(session, entry, now, settings, source="file")
            added.append(str(entry.id))
    if added:
        mark_calendar_stale(session)
    return added


def upcoming(session: Session, today: date, days: int) -> list[tuple[Occurrence, list[Reminder]]]:
    """Active key dates' occurrences from ``today`` to ``days`` later (inclusive), by date, each
    with the reminders planned for it (by due time).
    """
    end = today + timedelta(days=days)
    found = active_occurrences(session, today, end)
    reminders: dict[tuple[str, date], list[Reminder]] = {}
    if found:
        for reminder in session.scalars(
            select(Reminder)
            .where(Reminder.occurrence_date >= today, Reminder.occurrence_date <= end)
            .order_by(Reminder.due_at)
        ):
            reminders.setdefault((reminder.key_date_id, reminder.occurrence_date), []).append(reminder)
    return [(o, reminders.get((o.key_date_id, o.date), [])) for o in found]


def active_occurrences(session: Session, start: date, end: date) -> list[Occurrence]:
    """Active key dates' occurrences from ``start`` to ``end`` inclusive, by date then key date id."""
    found = [
        o
        for key_date in session.scalars(select(KeyDate).where(KeyDate.active.is_(True)))
        for o in occurrences_between(key_date, start, end)
    ]
    return sorted(found, key=lambda o: (o.date, o.key_date_id))


def occurrences_of_year(session: Session, year: int) -> list[Occurrence]:
    """Every active key date's occurrences in solar ``year``, by date then key date id."""
    found = [
        o
        for kd in session.scalars(select(KeyDate).where(KeyDate.active.is_(True)))
        for o in occurrences_in_year(kd, year)
    ]
    return sorted(found, key=lambda o: (o.date, o.key_date_id))


def render_calendar(session: Session, now: datetime, settings: Settings) -> bool:
    """Render /calendar.ics (this year's and next year's occurrences) and store it like a
    feed; True if the bytes changed.

    DTSTAMP is the latest change of any key date, not the render time, so rendering
    again without a change gives the same bytes and the same ETag.
    """
    transaction_lock(session, f"feed:{CALENDAR}")
    key_dates = {kd.id: kd for kd in list_key_dates(session)}
    today = now.astimezone(settings.zone).date()
    found = sorted(
        (
            o
            for kd in key_dates.values()
            if kd.active
            for year in years_for(today)
            for o in occurrences_in_year(kd, year)
        ),
        key=lambda o: (o.date, o.key_date_id),
    )
    stamp = max((kd.updated_at for kd in key_dates.values()), default=EMPTY_CALENDAR_STAMP)
    body = build_calendar(settings, key_dates, found, stamp)
    changed = store_document(session, CALENDAR, CALENDAR_FORMAT, body, now)
    if changed:
        announce_changes(session)
    return changed


def mark_calendar_stale(session: Session) -> None:
    """Have the next :func:`refresh_calendar` (beat's ``calendar.tick``, every few seconds)
    render /calendar.ics again, in the key date's transaction.

    Rendering is not done in the request that changes a key date: with 10,000 key dates
    it takes tens of seconds (``bench/calendar.py``). A stored render time in the past is
    the mark, so a lost message cannot lose it.
    """
    doc = session.get(FeedDocument, (CALENDAR, CALENDAR_FORMAT))
    if doc is not None:
        doc.rendered_at = EMPTY_CALENDAR_STAMP


def ensure_calendar(session: Session, now: datetime, settings: Settings) -> None:
    """On a fresh install, render /calendar.ics so that it answers 200 at once."""
    if session.get(FeedDocument, (CALENDAR, CALENDAR_FORMAT)) is None:
        render_calendar(session, now, settings)


def refresh_calendar(session: Session, now: datetime, settings: Settings) -> bool:
    """Render /calendar.ics when none is stored, a key date changed since (see
    :func:`mark_calendar_stale`) or it was rendered on an earlier local day (the years it
    covers follow the date); at most once a day otherwise. True if rendered.
    """
    doc = session.get(FeedDocument, (CALENDAR, CALENDAR_FORMAT))
    zone = settings.zone
    if doc is not None and doc.rendered_at.astimezone(zone).date() >= now.astimezone(zone).date():
        return False
    render_calendar(session, now, settings)
    return True
