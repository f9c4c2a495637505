"""Calendar endpoints: key dates (admin), upcoming occurrences and a year (staff).

The public /calendar.ics is a stored document, served by service/api/documents.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Response, status
from pydantic import BaseModel

from config.settings import get_settings
from service import clock
from service.api.auth import Caller, require_scope
from service.api.deps import AppSettings
from service.api.errors import ADMIN_ONLY, CONFLICT, WRITER_REFUSED
from service.api.idempotency import Once
from service.api.routing import api_router
from service.api.schemas import ArticleOut
from service.auth.tokens import Scope
from service.calendar.drafts import draft_from_occurrence
from service.calendar.schemas import KeyDateIn, KeyDateUpdate
from service.calendar.service import (
    create_key_date,
    delete_key_date,
    get_key_date,
    list_key_dates,
    occurrences_of_year,
    upcoming,
    update_key_date,
)
from service.db.engine import read_scope, session_scope
from service.db.models import KeyDate, Reminder
from service.inputs import Days, KeyDateId, Year

router = api_router(tags=["calendar"])
Admin = Annotated[Caller, Depends(require_scope(Scope.ADMIN))]
Staff = Annotated[Caller, Depends(require_scope(Scope.PUBLISH))]
# Drafting an article is what a writer's token may do (POST /api/v1/articles with status draft).
Writer = Annotated[Caller, Depends(require_scope(Scope.WRITE))]


class KeyDateOut(BaseModel):
    id: str
    name: str
    name_en: str | None
    calendar: str
    day: int
    month: int
    leap_month: bool
    origin_year: int | None
    scope: str
    tags: list[str]
    offsets: list[int]
    send_time: str
    events_to: dict[str, Any]
    templates: dict[str, str]
    active: bool
    source: str

    @classmethod
    def of(cls, kd: KeyDate) -> KeyDateOut:
        """The API shape of a stored key date."""
        return cls.model_validate(kd, from_attributes=True)


class ReminderOut(BaseModel):
    id: int
    days_before: int
    due_at: datetime
    status: str
    late: bool
    sent_at: datetime | None

    @classmethod
    def of(cls, r: Reminder) -> ReminderOut:
        """The API shape of a planned reminder (``days_before`` is its offset in days)."""
        return cls(id=r.id, days_before=r.offset_days, due_at=r.due_at, status=r.status, late=r.late, sent_at=r.sent_at)


class OccurrenceOut(BaseModel):
    key_date_id: str
    name: str
    date: date
    anniversary: int | None
    flags: list[str]


class UpcomingOut(OccurrenceOut):
    reminders: list[ReminderOut]


def _today() -> date:
    settings = get_settings()
    return clock.now(settings).astimezone(settings.zone).date()


@router.get("/api/v1/calendar/key-dates", response_model=list[KeyDateOut], responses=WRITER_REFUSED)
def list_(_: Staff) -> list[KeyDateOut]:
    """Every key date, in calendar order (month, day, id)."""
    with read_scope() as session:
        return [KeyDateOut.of(kd) for kd in list_key_dates(session)]


@router.post(
    "/api/v1/calendar/key-dates",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyDateOut,
    responses={**ADMIN_ONLY, **CONFLICT},
)
def create(payload: KeyDateIn, caller: Admin, response: Response, settings: AppSettings, once: Once) -> KeyDateOut:
    """Add a key date; its reminders are planned at once."""
    with once.unit_of_work(caller) as session:
        body = KeyDateOut.of(create_key_date(session, payload, clock.now(settings), settings))
        return once.answer(session, response, body, 201, location=f"/api/v1/calendar/key-dates/{body.id}")


@router.get("/api/v1/calendar/key-dates/{key_date_id}", response_model=KeyDateOut, responses=WRITER_REFUSED)
def read(key_date_id: KeyDateId, _: Staff) -> KeyDateOut:
    """One key date; 404 when the id is unknown."""
    with read_scope() as session:
        return KeyDateOut.of(get_key_date(session, key_date_id))


@router.patch("/api/v1/calendar/key-dates/{key_date_id}", response_model=KeyDateOut, responses=ADMIN_ONLY)
def patch(key_date_id: KeyDateId, payload: KeyDateUpdate, _: Admin, settings: AppSettings) -> KeyDateOut:
    """Change a key date; reminders not yet due are planned again."""
    with session_scope() as session:
        return KeyDateOut.of(update_key_date(session, key_date_id, payload, clock.now(settings), settings))


@router.delete("/api/v1/calendar/key-dates/{key_date_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ADMIN_ONLY)
def remove(key_date_id: KeyDateId, _: Admin) -> Response:
    """Delete a key date and its reminders; 204, or 404 when the id is unknown."""
    with session_scope() as session:
        delete_key_date(session, key_date_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/calendar/upcoming", response_model=list[UpcomingOut], responses=WRITER_REFUSED)
def upcoming_(_: Staff, days: Days = 60) -> list[UpcomingOut]:
    """Occurrences from today to `days` ahead, with N, flags and the planned reminders."""
    with read_scope() as session:
        return [
            UpcomingOut(
                key_date_id=o.key_date_id,
                name=o.name,
                date=o.date,
                anniversary=o.anniversary,
                flags=list(o.flags),
                reminders=[ReminderOut.of(r) for r in reminders],
            )
            for o, reminders in upcoming(session, _today(), days)
        ]


@router.get("/api/v1/calendar/occurrences", response_model=list[OccurrenceOut], responses=WRITER_REFUSED)
def occurrences(_: Staff, year: Year) -> list[OccurrenceOut]:
    """Every key date's solar date in `year`, with the anniversary number and flags."""
    with read_scope() as session:
        return [
            OccurrenceOut(
                key_date_id=o.key_date_id, name=o.name, date=o.date, anniversary=o.anniversary, flags=list(o.flags)
            )
            for o in occurrences_of_year(session, year)
        ]


@router.post(
    "/api/v1/calendar/key-dates/{key_date_id}/draft",
    status_code=status.HTTP_201_CREATED,
    response_model=ArticleOut,
    responses={200: {"model": ArticleOut, "description": "The occurrence had a draft already: that article"}},
)
def draft(
    key_date_id: KeyDateId,
    on: Annotated[
        date, Query(alias="date", description="The occurrence's solar date (yyyy-mm-dd), as /occurrences lists it")
    ],
    caller: Writer,
    response: Response,
    settings: AppSettings,
    once: Once,
) -> ArticleOut:
    """Draft an article for the key date's occurrence on `date`: the official heading as title,
    the key date's tags as categories, `publish_at` the morning of the anniversary
    (`BANTIN_CALENDAR_DRAFT_TIME`; none once that morning is past), status `draft`.

    201 with the new draft; 200 with the existing one when the occurrence has a draft
    already (one per occurrence; a withdrawn one is replaced). 404 for an unknown key
    date; 422 on `date` when the key date does not fall on it or it is outside 1901–2099.
    """
    with caller.refusals(), once.unit_of_work(caller) as session:
        drafted = draft_from_occurrence(session, key_date_id, on, clock.now(settings), settings, caller.actor)
        body = ArticleOut.of(drafted.article)
        code = status.HTTP_201_CREATED if drafted.created else status.HTTP_200_OK
        return once.answer(session, response, body, code, location=f"/api/v1/articles/{body.id}")
