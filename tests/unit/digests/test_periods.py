"""When digests are due: local time in BANTIN_TIMEZONE, the weekly day, the grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from config.settings import Settings
from service.digests.periods import due_instants, is_missed


def settings(**fields: object) -> Settings:
    return Settings.model_validate({"environment": "test", "secret_key": "x" * 40, **fields})


def test_daily_is_at_local_time_in_a_zone_without_summer_time() -> None:
    # 06:30 in Hà Nội (UTC+7 all year) is 23:30 UTC the day before.
    found = due_instants(
        "daily", datetime(2026, 11, 29, 12, 0, tzinfo=UTC), datetime(2026, 12, 2, 0, 0, tzinfo=UTC), settings()
    )
    assert found == [
        datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
        datetime(2026, 12, 1, 23, 30, tzinfo=UTC),
    ]


def test_the_bounds_are_after_exclusive_through_inclusive() -> None:
    instant = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert due_instants("daily", instant, instant + timedelta(hours=1), settings()) == []
    assert due_instants("daily", instant - timedelta(seconds=1), instant, settings()) == [instant]


def test_weekly_is_on_its_day_and_the_day_is_read_in_the_local_zone() -> None:
    # Monday 07/12/2026 06:30 in Hà Nội is still Sunday 06/12 in UTC.
    found = due_instants("weekly", datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 12, 15, tzinfo=UTC), settings())
    assert found == [datetime(2026, 11, 29, 23, 30, tzinfo=UTC) + timedelta(weeks=w) for w in range(3)]
    friday = due_instants(
        "weekly",
        datetime(2026, 11, 25, tzinfo=UTC),
        datetime(2026, 12, 3, tzinfo=UTC),
        settings(digest_weekly_on="Friday", digest_daily_at="18:00"),
    )
    assert friday == [datetime(2026, 11, 27, 11, 0, tzinfo=UTC)]


def test_a_zone_with_summer_time_keeps_the_local_hour() -> None:
    berlin = settings(timezone="Europe/Berlin")
    winter = due_instants("daily", datetime(2027, 3, 27, tzinfo=UTC), datetime(2027, 3, 29, tzinfo=UTC), berlin)
    # Summer time starts on 28/03/2027: 06:30 is 05:30 UTC before, 04:30 UTC after.
    assert winter == [datetime(2027, 3, 27, 5, 30, tzinfo=UTC), datetime(2027, 3, 28, 4, 30, tzinfo=UTC)]


def test_grace_decides_late_or_missed() -> None:
    due = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert not is_missed(due, due + timedelta(hours=6), settings())
    assert is_missed(due, due + timedelta(hours=6, seconds=1), settings())
    assert is_missed(due, due + timedelta(minutes=1), settings(digest_grace_hours=0))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digest_daily_at", "24:00"),
        ("digest_daily_at", "6:30"),
        ("digest_daily_at", "06:30:00"),
        ("digest_weekly_on", "mon"),
        ("digest_grace_hours", "24"),
        ("digest_grace_hours", "-1"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(**{field: value})
    assert field in str(refused.value)


def test_the_weekday_is_read_ignoring_case() -> None:
    assert settings(digest_weekly_on=" Sunday ").digest_weekly_on == "sunday"
