"""Vietnamese lunar calendar through ``lunar-vn`` (Hồ Ngọc Đức's algorithm at UTC+7).

The Vietnamese calendar is computed for UTC+7; the Chinese one for UTC+8. They differ
when a new moon falls between 16:00 and 17:00 UTC: Tết 1985 was 21 January in Vietnam
and 20 February in China; Tết 2007 was 17 February here and 18 February there.
"""

from __future__ import annotations

from datetime import date

from lunar_vn import LunarDate, lunar_to_solar, solar_to_lunar

VIETNAM_UTC_OFFSET = 7.0
SUPPORTED_YEARS = range(1901, 2100)


def has_leap_month(year: int, month: int) -> bool:
    """Whether lunar ``year`` has a leap (nhuận) ``month``.

    ``lunar-vn`` checks the leap flag only in years that have a leap month, so the
    answer is the round trip: the leap month's first day must come back as itself.
    """
    try:
        first = to_solar_unchecked(year, month, 1, leap=True)
    except ValueError:
        return False
    back = from_solar(first)
    return (back.year, back.month, back.day, back.leap) == (year, month, 1, True)


def month_length(year: int, month: int, leap: bool = False) -> int:
    """29 or 30: whether day 30 of that lunar month exists."""
    thirtieth = to_solar_unchecked(year, month, 30, leap)
    converted = solar_to_lunar(thirtieth, time_zone=VIETNAM_UTC_OFFSET)
    return 30 if (converted.day, converted.month, converted.leap) == (30, month, leap) else 29


def to_solar_unchecked(year: int, month: int, day: int, leap: bool = False) -> date:
    """The solar date of a lunar date (Vietnamese calendar, UTC+7), without checking that day 30 exists."""
    return lunar_to_solar(LunarDate(day=day, month=month, year=year, leap=leap), time_zone=VIETNAM_UTC_OFFSET)


def to_solar(year: int, month: int, day: int, leap: bool = False) -> date:
    """The solar date of an existing lunar date; ValueError when it does not exist."""
    if day == 30 and month_length(year, month, leap) == 29:
        raise ValueError(f"lunar month {month}{' (leap)' if leap else ''} of {year} has 29 days")
    return to_solar_unchecked(year, month, day, leap)


def observed(year: int, month: int, day: int, leap: bool) -> date:
    """The solar date a recurring lunar date is marked on in lunar ``year``.

    Rules: a day 30 in a 29-day month is marked on the month's last day (29), as the
    last evening of the year is in years without a 30th of month 12; a date in a leap
    month is marked in the leap month when the year has one, else in the regular month.
    """
    if leap and not has_leap_month(year, month):
        leap = False
    if day == 30 and month_length(year, month, leap) == 29:
        day = 29
    return to_solar_unchecked(year, month, day, leap)


def from_solar(value: date) -> LunarDate:
    """The Vietnamese lunar date (computed for UTC+7) of a solar date."""
    return solar_to_lunar(value, time_zone=VIETNAM_UTC_OFFSET)
