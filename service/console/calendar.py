"""Console calendar pages: upcoming anniversaries, a month view, key date forms, "draft an article".

Thin: the same domain functions as ``/api/v1/calendar`` (occurrences, create and update
of key dates) and ``service.calendar.drafts`` for the draft. Who may do what follows
the API: reading the calendar and drafting an article (a draft, as a ``write`` token
may make) is open to every signed-in user; adding and changing key dates takes the
``admin`` role, as ``POST``/``PATCH /api/v1/calendar/key-dates`` take the admin scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from fastapi import Response
from fastapi.responses import HTMLResponse
from lunar_vn import LunarDate

from config.settings import get_settings
from service import clock
from service.auth.sessions import SignedIn, push_flash
from service.calendar import lunar
from service.calendar.drafts import draft_from_occurrence, drafts_of
from service.calendar.occurrences import Occurrence
from service.calendar.schemas import CHANNEL_NAMES
from service.calendar.service import (
    active_occurrences,
    create_key_date,
    get_key_date,
    list_key_dates,
    update_key_date,
)
from service.console.common import console_router, html_page, see_other
from service.console.key_date_form import KeyDateForm, as_update
from service.console.routes import UPCOMING_DAYS
from service.console.security import CheckedForm, CurrentUser, Forbidden, editorial_actor
from service.db.engine import session_scope
from service.db.models import KeyDate, UserRole
from service.errors import Conflict, FieldError, InvalidField
from service.i18n import gettext
from service.inputs import KeyDateId
from service.web.templating import day

router = console_router()
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def may_edit_key_dates(user: SignedIn) -> bool:
    """Admins add and change key dates (the API's admin scope); editors and writers read them."""
    return user.role == UserRole.ADMIN


def _today() -> date:
    settings = get_settings()
    return clock.now(settings).astimezone(settings.zone).date()


@dataclass
class Day:
    """One cell of the month view: its solar and lunar date and the occurrences that fall on it."""

    date: date
    lunar: LunarDate
    in_month: bool
    is_today: bool
    occurrences: list[Occurrence] = field(default_factory=list)


def parse_month(raw: str, today: date) -> tuple[date, str | None]:
    """The first day of the month ``raw`` names ("2027-02"), or of today's month with the reason ``raw`` is refused.

    Years are those the lunar calendar is computed for (1901–2099); empty means this month.
    """
    if not raw:
        return today.replace(day=1), None
    match = MONTH_PATTERN.match(raw.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        return today.replace(day=1), gettext("“%(raw)s” không phải tháng dạng yyyy-mm (ví dụ 2027-02).", raw=raw)
    year, month = int(match.group(1)), int(match.group(2))
    if year not in lunar.SUPPORTED_YEARS:
        return today.replace(day=1), gettext("Lịch chỉ tính được từ năm 1901 đến năm 2099.")
    return date(year, month, 1), None


def _next_month(first: date) -> date:
    return (first + timedelta(days=31)).replace(day=1)


def month_weeks(first: date, occurrences: list[Occurrence], today: date) -> list[list[Day]]:
    """The month's weeks, Monday first, padded with the neighbouring months' days; each day with its lunar date."""
    start = first - timedelta(days=first.weekday())
    end = _next_month(first) - timedelta(days=1)
    end += timedelta(days=6 - end.weekday())
    by_day: dict[date, list[Occurrence]] = {}
    for occurrence in occurrences:
        by_day.setdefault(occurrence.date, []).append(occurrence)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    cells = [Day(d, lunar.from_solar(d), d.month == first.month, d == today, by_day.get(d, [])) for d in days]
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def _lunar_of(occurrences: list[Occurrence]) -> dict[date, LunarDate]:
    return {o.date: lunar.from_solar(o.date) for o in occurrences}


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(user: CurrentUser, month: str = "") -> Response:
    """Anniversaries of the next UPCOMING_DAYS days and the month view of ``month`` (yyyy-mm, default this month).

    A month that is not yyyy-mm, or outside 1901–2099, shows this month with the
    message by the month field (422).
    """
    today = _today()
    first, month_error = parse_month(month, today)
    last = _next_month(first) - timedelta(days=1)
    with session_scope() as session:
        upcoming = active_occurrences(session, today, today + timedelta(days=UPCOMING_DAYS))
        in_month = active_occurrences(session, first, last)
        drafts = drafts_of(session, upcoming + in_month)
        key_dates = list_key_dates(session)
    return html_page(
        "calendar.html",
        user,
        status_code=422 if month_error else 200,
        today=today,
        days=UPCOMING_DAYS,
        upcoming=upcoming,
        weeks=month_weeks(first, in_month, today),
        month_count=len(in_month),
        first=first,
        previous_month=(first - timedelta(days=1)).replace(day=1),
        next_month=_next_month(first),
        month_value=month if month_error else f"{first:%Y-%m}",
        month_error=month_error,
        lunar_of=_lunar_of(upcoming + in_month),
        drafts=drafts,
        key_dates=key_dates,
        may_edit=may_edit_key_dates(user),
    )


# ---- key dates ---------------------------------------------------------------------------------


def _key_date_form(user: SignedIn, form: KeyDateForm, key_date: KeyDate | None, status_code: int = 200) -> HTMLResponse:
    return html_page(
        "key_date_form.html",
        user,
        status_code=status_code,
        form=form,
        key_date=key_date,
        channels=CHANNEL_NAMES,
    )


def _require_editor_of_key_dates(user: SignedIn) -> None:
    if not may_edit_key_dates(user):
        raise Forbidden()


@router.get("/calendar/key-dates/new", response_class=HTMLResponse)
def new_key_date(user: CurrentUser) -> Response:
    """An empty key date form; admins only (403)."""
    _require_editor_of_key_dates(user)
    return _key_date_form(user, KeyDateForm.blank(), None)


@router.post("/calendar/key-dates/new", response_class=HTMLResponse)
def add_key_date(user: CurrentUser, posted: CheckedForm) -> Response:
    """Store a new key date through ``create_key_date`` (reminders planned at once); 303 to the calendar.

    403 for a non-admin; the form again with its errors (422), or 409 when the id is taken;
    nothing is stored in either case.
    """
    _require_editor_of_key_dates(user)
    form = KeyDateForm.posted(posted)
    data = form.to_input()
    if data is None:
        return _key_date_form(user, form, None, status_code=422)
    settings = get_settings()
    with session_scope() as session:
        try:
            key_date = create_key_date(session, data, clock.now(settings), settings)
        except Conflict:
            session.rollback()
            form.errors["id"] = gettext("Đã có ngày kỷ niệm mang mã “%(id)s”; hãy đặt một mã khác.", id=data.id)
            return _key_date_form(user, form, None, status_code=409)
        push_flash(session, user.session_id, gettext("Đã thêm ngày kỷ niệm “%(name)s”.", name=key_date.name))
    return see_other(f"/console/calendar#key-date-{data.id}")


@router.get("/calendar/key-dates/{key_date_id}", response_class=HTMLResponse)
def edit_key_date(key_date_id: KeyDateId, user: CurrentUser) -> Response:
    """A key date's form; admins only (403); 404 for an unknown id."""
    _require_editor_of_key_dates(user)
    with session_scope() as session:
        key_date = get_key_date(session, key_date_id)
        return _key_date_form(user, KeyDateForm.of(key_date), key_date)


@router.post("/calendar/key-dates/{key_date_id}", response_class=HTMLResponse)
def change_key_date(key_date_id: KeyDateId, user: CurrentUser, posted: CheckedForm) -> Response:
    """Save every field of the form through ``update_key_date`` (future reminders re-planned); 303 to the calendar.

    403 for a non-admin, 404 for an unknown id, the form again with its errors (422) and
    nothing changed for bad input.
    """
    _require_editor_of_key_dates(user)
    form = KeyDateForm.posted(posted)
    form.values["id"] = key_date_id
    settings = get_settings()
    with session_scope() as session:
        key_date = get_key_date(session, key_date_id)
        data = form.to_input(key_date_id)
        if data is None:
            return _key_date_form(user, form, key_date, status_code=422)
        try:
            key_date = update_key_date(session, key_date_id, as_update(data), clock.now(settings), settings)
        except InvalidField as exc:
            session.rollback()
            form.refuse(FieldError.of(exc))
            return _key_date_form(user, form, get_key_date(session, key_date_id), status_code=422)
        push_flash(session, user.session_id, gettext("Đã lưu ngày kỷ niệm “%(name)s”.", name=key_date.name))
    return see_other(f"/console/calendar#key-date-{key_date_id}")


# ---- draft an article from an occurrence --------------------------------------------------------


@router.post("/calendar/key-dates/{key_date_id}/draft")
def draft_article(key_date_id: KeyDateId, user: CurrentUser, posted: CheckedForm) -> Response:
    """Open the occurrence's draft article in the editor, making it first if there is none (303).

    The form's ``date`` (yyyy-mm-dd) names the occurrence. 404 for an unknown key date;
    a date that is not one of its occurrences goes back to the calendar with the reason.
    """
    settings = get_settings()
    try:
        on = date.fromisoformat(posted.get("date", ""))
    except ValueError:
        on = None
    with session_scope() as session:
        if on is None:
            get_key_date(session, key_date_id)  # an unknown key date is a 404 whatever the date
            push_flash(session, user.session_id, gettext("Không soạn được bài: thiếu ngày kỷ niệm (dạng yyyy-mm-dd)."))
            return see_other("/console/calendar")
        try:
            drafted = draft_from_occurrence(
                session, key_date_id, on, clock.now(settings), settings, editorial_actor(user)
            )
        except InvalidField:
            session.rollback()
            push_flash(
                session,
                user.session_id,
                gettext("Không soạn được bài: ngày %(date)s không phải ngày kỷ niệm này.", date=day(on)),
            )
            return see_other(f"/console/calendar?month={on:%Y-%m}")
        article = drafted.article
        if drafted.created:
            message = gettext("Đã soạn bài nháp “%(title)s” từ lịch kỷ niệm.", title=article.title)
        else:
            message = gettext("Ngày kỷ niệm này đã có bài “%(title)s”; đây là bài đó.", title=article.title)
        push_flash(session, user.session_id, message)
        article_id = article.id
    return see_other(f"/console/articles/{article_id}")
