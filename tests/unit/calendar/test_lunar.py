"""Lunar conversion against dates published in Vietnamese calendars (UTC+7), not Chinese ones."""

from datetime import date

import pytest

from service.calendar import lunar

# Mùng 1 Tết as published in Vietnamese calendars. Starred years differ from the Chinese
# (UTC+8) calendar: 1968 (China 30/1), 1985 (China 20/2: a whole month), 2007 (China
# 18/2), 2030 (China 3/2).
TET = {
    1968: date(1968, 1, 29),
    1985: date(1985, 1, 21),
    1986: date(1986, 2, 9),
    1990: date(1990, 1, 27),
    2000: date(2000, 2, 5),
    2001: date(2001, 1, 24),
    2007: date(2007, 2, 17),
    2010: date(2010, 2, 14),
    2015: date(2015, 2, 19),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 2),
}
# Giỗ Tổ Hùng Vương (10/3 âm lịch), a public holiday: the dates of the official notices.
GIO_TO = {
    2019: date(2019, 4, 14),
    2020: date(2020, 4, 2),
    2021: date(2021, 4, 21),
    2022: date(2022, 4, 10),
    2023: date(2023, 4, 29),
    2024: date(2024, 4, 18),
    2025: date(2025, 4, 7),
}


@pytest.mark.parametrize(("year", "solar"), sorted(TET.items()))
def test_tet(year: int, solar: date) -> None:
    assert lunar.to_solar(year, 1, 1) == solar
    back = lunar.from_solar(solar)
    assert (back.year, back.month, back.day, back.leap) == (year, 1, 1, False)


@pytest.mark.parametrize(("year", "solar"), sorted(GIO_TO.items()))
def test_gio_to_hung_vuong(year: int, solar: date) -> None:
    assert lunar.to_solar(year, 3, 10) == solar


def test_leap_months_of_recent_years() -> None:
    leap = [(y, m) for y in range(2017, 2034) for m in range(1, 13) if lunar.has_leap_month(y, m)]
    assert leap == [(2017, 6), (2020, 4), (2023, 2), (2025, 6), (2028, 5), (2031, 3), (2033, 11)]


def test_month_lengths_and_the_missing_thirtieth() -> None:
    # Tết 2025 came after 29 tháng Chạp: the 12th month of 2024 has 29 days.
    assert lunar.month_length(2024, 12) == 29
    assert lunar.to_solar(2024, 12, 29) == date(2025, 1, 28)
    with pytest.raises(ValueError, match="has 29 days"):
        lunar.to_solar(2024, 12, 30)
    assert lunar.observed(2024, 12, 30, leap=False) == date(2025, 1, 28)  # marked on the last day


def test_leap_month_date_falls_back_to_the_regular_month_in_other_years() -> None:
    assert lunar.observed(2023, 2, 15, leap=True) != lunar.observed(2023, 2, 15, leap=False)
    assert lunar.observed(2024, 2, 15, leap=True) == lunar.to_solar(2024, 2, 15)
