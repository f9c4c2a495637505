"""When a key date falls, which anniversary it is, and whether the year is a round one.

Decree 145/2013/NĐ-CP: an anniversary number ending in 0 is a "năm tròn", one ending
in 5 a "năm lẻ 5"; 25, 50, 75, 100 … are jubilees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from service.calendar import lunar
from service.db.models import KeyDate


@dataclass(frozen=True)
class Occurrence:
    key_date_id: str
    name: str
    date: date
    anniversary: int | None
    flags: tuple[str, ...]


def anniversary_flags(number: int | None) -> tuple[str, ...]:
    """The flags of the ``number``-th anniversary: ``nam_tron`` (ends in 0), ``nam_le_5`` (ends
    in 5), ``jubilee`` (a multiple of 25); none for no number (Decree 145/2013/NĐ-CP).
    """
    if not number or number <= 0:
        return ()
    flags = []
    if number % 10 == 0:
        flags.append("nam_tron")
    if number % 10 == 5:
        flags.append("nam_le_5")
    if number % 25 == 0:
        flags.append("jubilee")
    return tuple(flags)


def solar_observed(year: int, month: int, day: int) -> date:
    """29 February is marked on 28 February in common years (the month's last day)."""
    if (month, day) == (2, 29):
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)


def occurrences_between(key_date: KeyDate, start: date, end: date) -> list[Occurrence]:
    """Every occurrence from ``start`` to ``end`` inclusive, oldest first."""
    found: list[Occurrence] = []
    # A lunar date late in lunar year Y falls in January/February of solar Y+1.
    first = start.year - 1 if key_date.calendar == "lunar" else start.year
    for year in range(first, end.year + 1):
        if key_date.calendar == "lunar":
            if year not in lunar.SUPPORTED_YEARS:
                continue
            when = lunar.observed(year, key_date.month, key_date.day, key_date.leap_month)
        else:
            when = solar_observed(year, key_date.month, key_date.day)
        if not start <= when <= end:
            continue
        number = year - key_date.origin_year if key_date.origin_year is not None else None
        if number is not None and number <= 0:
            continue  # the date itself or before it: nothing to mark yet
        found.append(Occurrence(key_date.id, key_date.name, when, number, anniversary_flags(number)))
    return found


def occurrences_in_year(key_date: KeyDate, year: int) -> list[Occurrence]:
    """The key date's occurrences in solar ``year``, 1 January to 31 December inclusive."""
    return occurrences_between(key_date, date(year, 1, 1), date(year, 12, 31))
