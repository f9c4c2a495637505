"""Local dates and times as staff type them: "dd/mm/yyyy HH:mm" in BANTIN_TIMEZONE.

One parser for every console field that takes a time (the editor's and the review page's
publication time, the delivery log's "since"), so each says what is wrong the same way:
a value that is not of the form, a day or month that does not exist ("ngày 31/02/2027
không có", not "wrong format"), an hour past 23:59, a local time the zone skips when
clocks go forward, or a year outside what is stored.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from service.i18n import gettext
from service.inputs import EARLIEST, LATEST

# The console's form (dd/mm/yyyy HH:mm, day and month with or without a leading zero) and
# the one a browser's datetime-local input posts (yyyy-mm-ddTHH:MM).
_LOCAL = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4}) +(?P<hour>\d{1,2}):(?P<minute>\d{2})")
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})")


def parse_local_time(raw: str, zone: ZoneInfo) -> tuple[datetime | None, str | None]:
    """``raw`` as an aware datetime in ``zone``, or (None, the message for the field).

    ``raw`` must be non-empty (callers decide what an empty field means). Refused: another
    form; a day, month or time of day that does not exist; a year outside
    service.inputs' range; a local time that ``zone`` skips (a daylight-saving gap).
    """
    raw = raw.strip()
    match = _LOCAL.fullmatch(raw) or _ISO.fullmatch(raw)
    if match is None:
        return None, gettext("“%(raw)s” không phải ngày giờ dạng dd/mm/yyyy HH:mm.", raw=raw)
    day, month, year, hour, minute = (int(match[name]) for name in ("day", "month", "year", "hour", "minute"))
    on_text, at_text = f"{day:02d}/{month:02d}/{year}", f"{hour:02d}:{minute:02d}"
    if not EARLIEST.year <= year < LATEST.year:
        return None, _years()
    if not 1 <= month <= 12:
        return None, gettext("Không có tháng %(month)s; tháng là từ 1 đến 12.", month=month)
    try:
        on = date(year, month, day)
    except ValueError:
        return None, gettext("Ngày %(day)s không có.", day=on_text)
    try:
        at = time(hour, minute)
    except ValueError:
        return None, gettext("%(time)s không phải giờ trong ngày (00:00 đến 23:59).", time=at_text)
    when = datetime.combine(on, at, tzinfo=zone)
    if not EARLIEST <= when < LATEST:  # what an Instant stores (1970 … 2199 in UTC)
        return None, _years()
    # A wall-clock time the zone skips comes back as another one after a round trip through UTC.
    if when.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != when.replace(tzinfo=None):
        return None, gettext(
            "Không có giờ %(time)s ngày %(day)s ở múi giờ %(zone)s (đồng hồ chỉnh giờ mùa hè).",
            time=at_text,
            day=on_text,
            zone=str(zone),
        )
    return when, None


def _years() -> str:
    return gettext("Năm phải từ %(first)s đến %(last)s.", first=EARLIEST.year, last=LATEST.year - 1)
