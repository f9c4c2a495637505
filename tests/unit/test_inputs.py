"""The shared input types: every instant, id and count the API and CLI accept."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from config.settings import get_settings
from service.inputs import MAX_BIGINT, Days, Instant, Limit, Offset, RowId, Year

INSTANT = TypeAdapter(Instant)


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-14:00",  # overflowed converting to UTC: 500
        "0001-01-01T00:00:00+14:00",  # underflowed: 500
        "0001-01-02T00:00:00Z",  # was stored; the feed showed local mean time +07:06:40
        "1969-12-31T23:59:59Z",
        "1970-01-01T06:59:59",  # local time, 23:59:59 UTC the day before
        "2200-01-01T00:00:00Z",
        "2200-01-01T06:00:00+07:00",  # 23:00 UTC on 31/12/2199 is fine, one hour later is not
        "9999-12-31",
    ],
)
def test_instants_outside_1970_to_2199_are_refused(text: str) -> None:
    if text == "2200-01-01T06:00:00+07:00":
        assert INSTANT.validate_python(text) == datetime(2199, 12, 31, 23, tzinfo=UTC)
        return
    with pytest.raises(ValidationError, match="between 1970-01-01 and 2199-12-31"):
        INSTANT.validate_python(text)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-01-01T00:00:00", datetime(2025, 12, 31, 17, tzinfo=UTC)),  # no zone: BANTIN_TIMEZONE
        ("2026-11-27T08:00", datetime(2026, 11, 27, 1, tzinfo=UTC)),
        ("2027-02-03", datetime(2027, 2, 2, 17, tzinfo=UTC)),  # a date: local midnight
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T00:00:00-14:00", datetime(2026, 1, 1, 14, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_instants_are_aware_utc_and_local_without_a_zone(text: str, utc: datetime) -> None:
    value = INSTANT.validate_python(text)
    assert value == utc and value.tzinfo is UTC


def test_local_time_follows_the_configured_zone(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_TIMEZONE", "Europe/Paris")
    assert INSTANT.validate_python("2026-07-01T12:00") == datetime(2026, 7, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("annotation", "good", "bad"),
    [
        (RowId, [1, MAX_BIGINT], [0, -1, MAX_BIGINT + 1, 2**64]),
        (Offset, [0, MAX_BIGINT], [-1, MAX_BIGINT + 1]),
        (Limit, [1, 500], [0, -1, 501]),
        (Days, [0, 800], [-1, 801, 10**9]),
        (Year, [1901, 2099], [1900, 2100, 10**6]),
    ],
)
def test_integers_are_bounded_to_what_is_stored(annotation: Any, good: list[int], bad: list[int]) -> None:
    adapter: TypeAdapter[int] = TypeAdapter(annotation)
    for value in good:
        assert adapter.validate_python(value) == value
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


def test_the_test_clock_file_is_read_as_an_instant_too(settings_override: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from service import clock

    path = tmp_path / "clock"
    settings_override.setenv("BANTIN_CLOCK_FILE", str(path))
    path.write_text("2027-02-03T08:00")
    assert clock.now(get_settings()) == datetime(2027, 2, 3, 1, tzinfo=UTC)
    path.write_text("2027-02-03T08:00:00+07:00")
    assert clock.now(get_settings()) == datetime(2027, 2, 3, 1, tzinfo=UTC)
    path.write_text("9999-12-31T23:59:59-14:00")
    with pytest.raises(ValidationError):
        clock.now(get_settings())
