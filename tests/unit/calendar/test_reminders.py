from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select

from config.settings import get_settings
from service.calendar.ics import build_calendar
from service.calendar.loader import KeyDatesFileError, load_key_dates
from service.calendar.reminders import plan_all, send_due
from service.calendar.schemas import KeyDateIn, KeyDateUpdate
from service.calendar.service import create_key_date, occurrences_of_year, sync_seed_file, update_key_date
from service.db.engine import session_scope
from service.db.models import Announcement, Delivery, KeyDate, Reminder
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription

# 2027-01-01 08:00 in Hà Nội.
JAN_1 = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)


def party(**fields: object) -> KeyDateIn:
    return KeyDateIn.model_validate(
        {
            "id": "thanh-lap-dang",
            "name": "Ngày thành lập Đảng Cộng sản Việt Nam",
            "calendar": "solar",
            "day": 3,
            "month": 2,
            "origin_year": 1930,
            **fields,
        }
    )


def add(data: KeyDateIn, now: datetime = JAN_1) -> None:
    with session_scope() as session:
        create_key_date(session, data, now, get_settings())


def reminders() -> list[Reminder]:
    with session_scope() as session:
        return list(session.scalars(select(Reminder).order_by(Reminder.due_at)))


def tick(now: datetime) -> tuple[list[int], list[int], list[int]]:
    with session_scope() as session:
        plan_all(session, now, get_settings())
        result = send_due(session, now, get_settings())
        return result.sent, result.late, result.missed


def test_reminders_are_planned_at_local_send_time_for_each_offset() -> None:
    add(party())
    planned = [r for r in reminders() if r.occurrence_date == date(2027, 2, 3)]
    # 08:00 in Asia/Ho_Chi_Minh is 01:00 UTC.
    assert [(r.offset_days, r.due_at) for r in planned] == [
        (30, datetime(2027, 1, 4, 1, 0, tzinfo=UTC)),
        (7, datetime(2027, 1, 27, 1, 0, tzinfo=UTC)),
        (1, datetime(2027, 2, 2, 1, 0, tzinfo=UTC)),
        (0, datetime(2027, 2, 3, 1, 0, tzinfo=UTC)),
    ]
    assert {r.anniversary for r in planned} == {97}


def test_each_reminder_is_sent_once_with_its_payload() -> None:
    with session_scope() as session:
        subscription = create_subscription(
            session, SubscriptionCreate(channel="zalo", target="123"), JAN_1, get_settings()
        )[0]
    add(party())
    due = datetime(2027, 1, 4, 1, 0, 30, tzinfo=UTC)
    sent, late, missed = tick(due)
    assert len(sent) == 1 and late == [] and missed == []
    assert tick(due) == ([], [], [])  # the second scan finds nothing
    with session_scope() as session:
        announcement = session.scalars(select(Announcement)).one()
        assert announcement.type == "reminder.due"
        assert announcement.payload["reminder"]["anniversary"] == 97
        assert announcement.payload["reminder"]["days_before"] == 30
        assert announcement.payload["text"]["vi"].startswith("Còn 30 ngày: Kỷ niệm 97 năm")
        assert session.scalars(select(Delivery)).one().subscription_id == subscription.id


def test_late_within_grace_goes_out_marked_late_and_older_is_missed() -> None:
    add(party())
    sent, late, missed = tick(datetime(2027, 1, 4, 7, 0, tzinfo=UTC))  # 6 h after 08:00
    assert sent == [] and len(late) == 1 and missed == []
    sent, late, missed = tick(datetime(2027, 1, 27, 14, 0, tzinfo=UTC))  # 13 h after the 7-day one
    assert sent == [] and late == [] and len(missed) == 1
    with session_scope() as session:
        assert session.scalars(select(Announcement)).all().__len__() == 1  # the missed one was never announced


def test_editing_a_key_date_replans_its_future_reminders() -> None:
    add(party())
    tick(datetime(2027, 1, 4, 1, 1, tzinfo=UTC))  # the 30-day reminder goes out
    with session_scope() as session:
        update_key_date(
            session,
            "thanh-lap-dang",
            KeyDateUpdate(send_time="14:30", offsets=[7, 0]),
            datetime(2027, 1, 5, tzinfo=UTC),
            get_settings(),
        )
    by_date = [(r.offset_days, r.due_at, r.status) for r in reminders() if r.occurrence_date == date(2027, 2, 3)]
    assert by_date == [
        (30, datetime(2027, 1, 4, 1, 0, tzinfo=UTC), "sent"),  # history stays
        (7, datetime(2027, 1, 27, 7, 30, tzinfo=UTC), "planned"),
        (0, datetime(2027, 2, 3, 7, 30, tzinfo=UTC), "planned"),
    ]


def test_seed_file_loads_adds_missing_and_never_overwrites(tmp_path: Path) -> None:
    entries = load_key_dates(get_settings().key_dates_file)
    assert len(entries) == 17
    with session_scope() as session:
        assert len(sync_seed_file(session, entries, JAN_1, get_settings())) == 17
    with session_scope() as session:
        update_key_date(session, "quoc-khanh", KeyDateUpdate(send_time="07:00"), JAN_1, get_settings())
        assert sync_seed_file(session, entries, JAN_1, get_settings()) == []
        assert session.get_one(KeyDate, "quoc-khanh").send_time == "07:00"
    with session_scope() as session:
        year = {o.key_date_id: o for o in occurrences_of_year(session, 2027)}
        assert (year["quoc-khanh"].date, year["quoc-khanh"].anniversary) == (date(2027, 9, 2), 82)
        assert year["tet-nguyen-dan"].date == date(2027, 2, 6) and year["tet-nguyen-dan"].anniversary is None
        assert year["gio-to-hung-vuong"].date == date(2027, 4, 16)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("key_dates:\n  - name: A\n    calendar: solar\n    day: 31\n    month: 6\n", "entry 1 (A): day: day 31"),
        (
            "key_dates:\n  - {name: A, calendar: solar, day: 1, month: 1}\n"
            "  - {name: B, calendar: moon, day: 1, month: 1}\n",
            "entry 2 (B): calendar:",
        ),
        (
            "key_dates:\n  - {id: x, name: A, calendar: solar, day: 1, month: 1}\n"
            "  - {id: x, name: B, calendar: solar, day: 2, month: 1}\n",
            "entry 2 (B): id 'x' is already used by entry 1",
        ),
        ("key_dates: [", "not valid YAML"),
        ("dates: []", "expected a mapping with a 'key_dates' list"),
    ],
)
def test_bad_seed_file_fails_with_position_and_reason(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "key_dates.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeyDatesFileError) as caught:
        load_key_dates(path)
    assert fragment in str(caught.value)


def test_icalendar_is_parsed_by_two_clients() -> None:
    add(party())
    add(
        KeyDateIn.model_validate(
            {"id": "gio-to", "name": "Giỗ Tổ Hùng Vương", "calendar": "lunar", "day": 10, "month": 3}
        )
    )
    with session_scope() as session:
        key_dates = {kd.id: kd for kd in session.scalars(select(KeyDate))}
        found = occurrences_of_year(session, 2027) + occurrences_of_year(session, 2028)
        body = build_calendar(get_settings(), key_dates, found, JAN_1)
    calendar = Calendar.from_ical(body)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    party_2027 = events["thanh-lap-dang-2027-02-03@bantin.example.vn"]
    assert str(party_2027["summary"]) == "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"
    assert party_2027.decoded("dtstart") == date(2027, 2, 3)
    triggers = sorted(a.decoded("trigger") for a in party_2027.walk("VALARM"))
    assert triggers == [
        timedelta(days=-30, hours=8),
        timedelta(days=-7, hours=8),
        timedelta(days=-1, hours=8),
        timedelta(hours=8),
    ]
    assert "gio-to-2028-04-04@bantin.example.vn" in events
    # A second client: recurring-ical-events expands the calendar for a window.
    april = recurring_ical_events.of(calendar).between(date(2027, 4, 1), date(2027, 5, 1))
    assert [(str(e["summary"]), e.decoded("dtstart")) for e in april] == [
        ("Giỗ Tổ Hùng Vương (10/3 âm lịch, 16/4/2027)", date(2027, 4, 16))
    ]
