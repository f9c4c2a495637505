"""``/calendar.ics``: RFC 5545, one all-day event per occurrence (this year and the next).

Per-year events, not RRULEs: the anniversary number changes every year and lunar dates
do not recur on solar rules. UIDs are stable (key date + date), so a client that
refreshes updates events instead of duplicating them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event

from config.settings import Settings
from service.calendar.occurrences import Occurrence
from service.calendar.text import ReminderText, render_default, render_reminder
from service.db.models import KeyDate

log = logging.getLogger(__name__)
FLAG_LABELS = {"nam_tron": "Năm tròn", "nam_le_5": "Năm lẻ 5", "jubilee": "Đại lễ"}


def build_calendar(
    settings: Settings, key_dates: dict[str, KeyDate], occurrences: list[Occurrence], stamp: datetime
) -> bytes:
    """The ``/calendar.ics`` bytes (RFC 5545): one all-day VEVENT per occurrence.

    Each event has a DISPLAY alarm per reminder offset, at the key date's send time that many
    days before. ``key_dates`` maps every occurrence's key_date_id to its row (KeyError if
    one is missing); ``stamp`` is each event's DTSTAMP. A key date whose template fails is
    logged and gets the default wording.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//Bantin//Lịch kỷ niệm//VI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{settings.site_title} – Ngày kỷ niệm")
    calendar.add("x-wr-timezone", settings.timezone)
    host = urlsplit(settings.base_url).hostname or "bantin"
    for occurrence in occurrences:
        key_date = key_dates[occurrence.key_date_id]
        try:
            event = _event(key_date, occurrence, host, stamp, render_reminder)
        except Exception:
            log.exception("key date %s: its template failed; /calendar.ics uses the default wording", key_date.id)
            event = _event(key_date, occurrence, host, stamp, render_default)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _event(
    key_date: KeyDate, occurrence: Occurrence, host: str, stamp: datetime, render: Callable[..., ReminderText]
) -> Event:
    event = Event()
    event.add("uid", f"{key_date.id}-{occurrence.date.isoformat()}@{host}")
    event.add("dtstamp", stamp)
    event.add("dtstart", occurrence.date)
    event.add("dtend", occurrence.date + timedelta(days=1))
    words = render(key_date, occurrence.date, occurrence.anniversary, occurrence.flags, 0)
    event.add("summary", words.vi.removeprefix("Hôm nay: "))
    description = [words.vi.removeprefix("Hôm nay: ")]
    if occurrence.flags:
        description.append(", ".join(FLAG_LABELS[f] for f in occurrence.flags))
    event.add("description", "\n".join(description))
    categories = [key_date.scope, *key_date.tags, *(FLAG_LABELS[f] for f in occurrence.flags)]
    event.add("categories", categories)
    event.add("transp", "TRANSPARENT")
    hours, minutes = (int(x) for x in key_date.send_time.split(":"))
    for offset in key_date.offsets:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add(
            "description",
            render(key_date, occurrence.date, occurrence.anniversary, occurrence.flags, offset).vi,
        )
        # Relative to the all-day start (local midnight): N days before, at the send time.
        alarm.add("trigger", timedelta(days=-offset, hours=hours, minutes=minutes))
        event.add_component(alarm)
    return event


def years_for(today: date) -> tuple[int, int]:
    """The years the calendar covers on ``today``: this one and the next."""
    return today.year, today.year + 1
