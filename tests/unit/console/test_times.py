"""Times as staff type them: a day, month or hour that does not exist is named as such, not
called a wrong format (issue 20.1: "31/02/2027" is a day that does not exist)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from service.console.times import parse_local_time

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03/02/2027 07:00", datetime(2027, 2, 3, 0, 0, tzinfo=UTC)),
        ("3/2/2027 7:00", datetime(2027, 2, 3, 0, 0, tzinfo=UTC)),  # without leading zeros
        ("  03/02/2027   07:00 ", datetime(2027, 2, 3, 0, 0, tzinfo=UTC)),
        ("2027-02-03T07:00", datetime(2027, 2, 3, 0, 0, tzinfo=UTC)),  # a datetime-local input
        ("29/02/2028 23:59", datetime(2028, 2, 29, 16, 59, tzinfo=UTC)),  # a leap day
    ],
)
def test_a_local_time_is_read_in_the_zone(raw: str, expected: datetime) -> None:
    when, error = parse_local_time(raw, HANOI)
    assert error is None and when == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("31/02/2027 07:00", "Ngày 31/02/2027 không có."),
        ("29/02/2027 07:00", "Ngày 29/02/2027 không có."),  # 2027 is not a leap year
        ("31/04/2027 07:00", "Ngày 31/04/2027 không có."),
        ("00/01/2027 07:00", "Ngày 00/01/2027 không có."),
        ("2027-02-30T07:00", "Ngày 30/02/2027 không có."),
        ("03/13/2027 07:00", "Không có tháng 13; tháng là từ 1 đến 12."),
        ("03/00/2027 07:00", "Không có tháng 0; tháng là từ 1 đến 12."),
        ("03/02/2027 24:00", "24:00 không phải giờ trong ngày (00:00 đến 23:59)."),
        ("03/02/2027 07:60", "07:60 không phải giờ trong ngày (00:00 đến 23:59)."),
        ("03/02/1969 07:00", "Năm phải từ 1970 đến 2199."),
        ("03/02/2200 07:00", "Năm phải từ 1970 đến 2199."),
        ("03-02-2027 07:00", "“03-02-2027 07:00” không phải ngày giờ dạng dd/mm/yyyy HH:mm."),
        ("03/02/2027", "“03/02/2027” không phải ngày giờ dạng dd/mm/yyyy HH:mm."),
        ("mai 7 giờ", "“mai 7 giờ” không phải ngày giờ dạng dd/mm/yyyy HH:mm."),
    ],
)
def test_what_is_wrong_is_named(raw: str, message: str) -> None:
    assert parse_local_time(raw, HANOI) == (None, message)


def test_a_time_the_zone_skips_for_summer_time_is_refused() -> None:
    # 29/03/2026 02:30 does not exist in Berlin: clocks go from 02:00 to 03:00.
    when, error = parse_local_time("29/03/2026 02:30", ZoneInfo("Europe/Berlin"))
    assert when is None and error is not None and "02:30" in error and "Europe/Berlin" in error
    assert parse_local_time("29/03/2026 03:30", ZoneInfo("Europe/Berlin"))[1] is None
