"""``bantin calendar …``: key dates and upcoming anniversaries."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from config.settings import get_settings
from service import clock
from service.calendar.loader import KeyDatesFileError, load_key_dates
from service.calendar.schemas import KeyDateIn
from service.calendar.service import create_key_date, get_key_date, sync_seed_file, upcoming
from service.cli.common import fail, parser_for, validation_failure
from service.db.engine import session_scope
from service.errors import DomainError
from service.inputs import Days

calendar_app = typer.Typer(help="Key dates and anniversary reminders.", no_args_is_help=True)

FLAG_WORDS = {"nam_tron": "năm tròn", "nam_le_5": "năm lẻ 5", "jubilee": "đại lễ"}


@calendar_app.command("upcoming")
def upcoming_(
    days: Annotated[int, typer.Option(parser=parser_for(Days))] = 60,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Occurrences in the next DAYS days, with anniversary numbers and reminders."""
    settings = get_settings()
    today = clock.now(settings).astimezone(settings.zone).date()
    with session_scope() as session:
        for occurrence, reminders in upcoming(session, today, days):
            if as_json:
                typer.echo(
                    json.dumps(
                        {
                            "key_date_id": occurrence.key_date_id,
                            "name": occurrence.name,
                            "date": occurrence.date.isoformat(),
                            "anniversary": occurrence.anniversary,
                            "flags": list(occurrence.flags),
                            "reminders": [{"days_before": r.offset_days, "status": r.status} for r in reminders],
                        },
                        ensure_ascii=False,
                    )
                )
                continue
            number = f"{occurrence.anniversary} năm" if occurrence.anniversary else "-"
            flags = ", ".join(FLAG_WORDS[f] for f in occurrence.flags)
            when = f"{occurrence.date.day}/{occurrence.date.month}/{occurrence.date.year}"
            planned = " ".join(f"{r.offset_days}d:{r.status}" for r in reminders)
            typer.echo(f"{when}\t{occurrence.key_date_id}\t{occurrence.name}\t{number}\t{flags}\t{planned}")


@calendar_app.command("show")
def show(key_date_id: str) -> None:
    """One key date, as JSON."""
    try:
        with session_scope() as session:
            kd = get_key_date(session, key_date_id)
            document = {
                c: getattr(kd, c)
                for c in (
                    "id",
                    "name",
                    "name_en",
                    "calendar",
                    "day",
                    "month",
                    "leap_month",
                    "origin_year",
                    "scope",
                    "tags",
                    "offsets",
                    "send_time",
                    "events_to",
                    "templates",
                    "active",
                    "source",
                )
            }
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@calendar_app.command("add")
def add(
    name: Annotated[str, typer.Option()],
    day: Annotated[int, typer.Option()],
    month: Annotated[int, typer.Option()],
    calendar: Annotated[str, typer.Option(help="solar or lunar")] = "solar",
    origin_year: Annotated[int | None, typer.Option()] = None,
    leap_month: Annotated[bool, typer.Option(help="lunar leap month")] = False,
    name_en: Annotated[str | None, typer.Option()] = None,
    key_date_id: Annotated[str | None, typer.Option("--id")] = None,
    offset: Annotated[list[int] | None, typer.Option(help="days before; repeatable (default 30 7 1 0)")] = None,
    send_time: Annotated[str, typer.Option(help="HH:MM in BANTIN_TIMEZONE")] = "08:00",
    scope: str = "national",
) -> None:
    """Add a key date and plan its reminders."""
    settings = get_settings()
    fields: dict[str, Any] = {
        "id": key_date_id,
        "name": name,
        "name_en": name_en,
        "calendar": calendar,
        "day": day,
        "month": month,
        "origin_year": origin_year,
        "leap_month": leap_month,
        "send_time": send_time,
        "scope": scope,
    }
    if offset:
        fields["offsets"] = offset
    try:
        data = KeyDateIn.model_validate(fields)
        with session_scope() as session:
            key_date = create_key_date(session, data, clock.now(settings), settings)
            line = f"{key_date.id}\t{key_date.name}"
    except ValidationError as exc:
        raise validation_failure(exc) from None
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(line)


@calendar_app.command("sync")
def sync() -> None:
    """Load config/key_dates.yaml (BANTIN_KEY_DATES_FILE) and add the key dates that are missing."""
    settings = get_settings()
    path = settings.key_dates_file
    try:
        entries = load_key_dates(path)
    except KeyDatesFileError as exc:
        raise fail(str(exc)) from None
    with session_scope() as session:
        added = sync_seed_file(session, entries, clock.now(settings), settings)
    typer.echo(f"{len(entries)} key dates in {path}; added: {', '.join(added) or 'none'}")
