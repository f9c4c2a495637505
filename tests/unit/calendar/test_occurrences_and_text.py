from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from service.calendar.occurrences import anniversary_flags, occurrences_between, occurrences_in_year
from service.calendar.schemas import KeyDateIn
from service.calendar.text import render_reminder
from service.db.models import KeyDate
from service.errors import validation_items


def key_date(**fields: object) -> KeyDate:
    data = KeyDateIn.model_validate(
        {
            "name": "Ngày thành lập Đảng Cộng sản Việt Nam",
            "calendar": "solar",
            "day": 3,
            "month": 2,
            "origin_year": 1930,
            **fields,
        }
    )
    return KeyDate(**data.model_dump())


def test_anniversary_number_and_flags() -> None:
    [occurrence] = occurrences_in_year(key_date(), 2027)
    assert (occurrence.date, occurrence.anniversary, occurrence.flags) == (date(2027, 2, 3), 97, ())
    assert occurrences_in_year(key_date(), 2040)[0].flags == ("nam_tron",)  # 110
    assert occurrences_in_year(key_date(), 2030)[0].flags == ("nam_tron", "jubilee")  # 100
    assert occurrences_in_year(key_date(), 2025)[0].flags == ("nam_le_5",)
    assert anniversary_flags(50) == ("nam_tron", "jubilee")
    assert anniversary_flags(75) == ("nam_le_5", "jubilee")
    assert anniversary_flags(100) == ("nam_tron", "jubilee")
    assert anniversary_flags(25) == ("nam_le_5", "jubilee")
    assert anniversary_flags(97) == ()
    assert occurrences_in_year(key_date(), 1930) == []  # the date itself is no anniversary


def test_29_february_is_marked_on_28_february_in_common_years() -> None:
    leap_day = key_date(day=29, month=2, origin_year=2000, name="Ngày 29/2")
    assert occurrences_in_year(leap_day, 2027)[0].date == date(2027, 2, 28)
    assert occurrences_in_year(leap_day, 2028)[0].date == date(2028, 2, 29)


def test_lunar_occurrence_late_in_the_lunar_year_lands_in_the_next_solar_year() -> None:
    eve = key_date(calendar="lunar", day=30, month=12, origin_year=None, name="Giao thừa")
    found = occurrences_between(eve, date(2025, 1, 1), date(2025, 12, 31))
    assert [o.date for o in found] == [date(2025, 1, 28)]  # 29 Chạp 2024: no 30th that year


def test_official_wording_in_both_languages() -> None:
    party = key_date(name_en="the founding of the Communist Party of Vietnam")
    week = render_reminder(party, date(2027, 2, 3), 97, (), 7)
    assert week.vi == "Còn 7 ngày: Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"
    assert week.en == (
        "In 7 days: 97th anniversary of the founding of the Communist Party of Vietnam (3/2/1930 - 3/2/2027)"
    )
    assert render_reminder(party, date(2027, 2, 3), 97, (), 0).vi.startswith("Hôm nay: Kỷ niệm 97 năm")
    assert render_reminder(party, date(2027, 2, 3), 97, (), 1).en.startswith("Tomorrow: ")
    assert render_reminder(party, date(2021, 2, 3), 91, (), 30).en.startswith("In 30 days: 91st anniversary")
    gio_to = key_date(calendar="lunar", day=10, month=3, origin_year=None, name="Giỗ Tổ Hùng Vương")
    assert render_reminder(gio_to, date(2027, 4, 16), None, (), 1).vi == (
        "Ngày mai: Giỗ Tổ Hùng Vương (10/3 âm lịch, 16/4/2027)"
    )


def test_template_override_per_key_date() -> None:
    custom = key_date(
        templates={"vi": "{{ name }} — {{ anniversary }} năm{% if 'nam_tron' in flags %} (năm tròn){% endif %}"}
    )
    assert render_reminder(custom, date(2030, 2, 3), 100, ("nam_tron", "jubilee"), 0).vi.endswith("100 năm (năm tròn)")


def errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        KeyDateIn.model_validate(data)
    return {e["field"]: e["message"] for e in validation_items(list(caught.value.errors()))}


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"calendar": "solar", "day": 31, "month": 4}, "day", "day 31 does not exist in month 4 (30 days)"),
        ({"calendar": "solar", "day": 29, "month": 2, "origin_year": 2023}, "day", "does not exist in 2/2023"),
        ({"calendar": "lunar", "day": 30, "month": 12, "origin_year": 2024}, "day", "has 29 days"),
        ({"calendar": "lunar", "day": 31, "month": 1}, "day", "between 1 and 30"),
        (
            {"calendar": "lunar", "day": 1, "month": 3, "leap_month": True, "origin_year": 2024},
            "leap_month",
            "no leap month 3",
        ),
        ({"calendar": "julian", "day": 1, "month": 1}, "calendar", "'solar' or 'lunar'"),
        ({"calendar": "solar", "day": 1, "month": 13}, "month", "between 1 and 12"),
        ({"calendar": "solar", "day": 1, "month": 1, "send_time": "8h"}, "send_time", "HH:MM"),
        ({"calendar": "solar", "day": 1, "month": 1, "send_time": "24:00"}, "send_time", "HH:MM"),
        ({"calendar": "solar", "day": 1, "month": 1, "offsets": [400]}, "offsets", "between 0 and 366"),
        ({"calendar": "solar", "day": 1, "month": 1, "events_to": {"teams": 1}}, "events_to", "unknown key"),
        ({"calendar": "solar", "day": 1, "month": 1, "templates": {"vi": "{{ nope }}"}}, "templates", "nope"),
        ({"calendar": "solar", "day": 1, "month": 1, "templates": {"vi": "{% if %}"}}, "templates", "syntax"),
        ({"calendar": "solar", "day": 1, "month": 1, "id": "Có Dấu"}, "id", "lowercase"),
    ],
)
def test_bad_key_dates_name_the_field(data: dict[str, Any], field: str, fragment: str) -> None:
    found = errors({"name": "Ngày", **data})
    assert field in found, found
    assert fragment in found[field]


def test_defaults_and_id_from_the_name() -> None:
    data = KeyDateIn.model_validate({"name": "Chiến thắng Điện Biên Phủ", "calendar": "solar", "day": 7, "month": 5})
    assert (data.id, data.offsets, data.send_time) == ("chien-thang-dien-bien-phu", [30, 7, 1, 0], "08:00")
