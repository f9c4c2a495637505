"""When digests are due: the scheduled instants of a frequency, computed in BANTIN_TIMEZONE.

A period is named by the instant that opens it (``period_start``, in UTC): every day at
BANTIN_DIGEST_DAILY_AT local time, or that time on BANTIN_DIGEST_WEEKLY_ON. Local
dates are walked one by one and each combined with the local time, so a zone with
summer time keeps the local hour (ARCHITECTURE.md decision 7).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Literal

from config.settings import Settings

Frequency = Literal["daily", "weekly"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def local_time(settings: Settings) -> time:
    """BANTIN_DIGEST_DAILY_AT (``HH:MM``, checked when settings load) as a time of day."""
    hours, minutes = (int(part) for part in settings.digest_daily_at.split(":"))
    return time(hours, minutes)


def due_instants(frequency: Frequency, after: datetime, through: datetime, settings: Settings) -> list[datetime]:
    """The period starts of ``frequency`` in ``(after, through]`` (aware instants), oldest first, in UTC.

    Daily: every local day at BANTIN_DIGEST_DAILY_AT; weekly: the same time on
    BANTIN_DIGEST_WEEKLY_ON. Both in BANTIN_TIMEZONE.
    """
    zone = settings.zone
    at = local_time(settings)
    weekday = WEEKDAYS.index(settings.digest_weekly_on)
    day = after.astimezone(zone).date() - timedelta(days=1)
    last = through.astimezone(zone).date()
    found = []
    while day <= last:
        if frequency == "daily" or day.weekday() == weekday:
            instant = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
            if after < instant <= through:
                found.append(instant)
        day += timedelta(days=1)
    return found


def is_missed(period_start: datetime, now: datetime, settings: Settings) -> bool:
    """True when ``now`` is more than BANTIN_DIGEST_GRACE_HOURS past ``period_start``: too late to send."""
    return now - period_start > timedelta(hours=settings.digest_grace_hours)
