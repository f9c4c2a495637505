"""Time travel through a year of reminders with a real worker and two beats.

The stack reads "now" from a clock file (BANTIN_CLOCK_FILE, test environment only);
moving the file moves the calendar's time for the API, the worker and both beats.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.receivers import Receivers
from tests.integration.stack import PrivateRedis, Stack, wait_until

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


class TimeTravel:
    def __init__(self, stack: Stack, clock: Path, receivers: Receivers, path: str) -> None:
        self.stack, self.clock, self.receivers, self.path = stack, clock, receivers, path

    def set(self, year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> None:
        self.clock.write_text(datetime(year, month, day, hour, minute, second, tzinfo=HANOI).isoformat())

    def down_until(self, year: int, month: int, day: int, hour: int, minute: int) -> None:
        """Stop the workers and both beats, move the clock, start them again."""
        for name in ("beat", "beat2", "worker", "sender"):
            self.stack.stop(name)
        self.set(year, month, day, hour, minute)
        self.stack.start_worker()
        self.stack.start_sender()
        self.stack.start_beat()
        self.stack.start_beat("beat2")

    def reminders(self, key_date_id: str) -> list[dict[str, Any]]:
        return [
            r.json()["data"]
            for r in self.receivers.got(self.path)
            if r.json()["data"]["reminder"]["key_date_id"] == key_date_id
        ]

    def statuses(self, key_date_id: str, occurrence: str) -> dict[int, tuple[str, bool]]:
        engine = create_engine(self.stack.env["BANTIN_DATABASE_URL"])
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT offset_days, status, late FROM reminders WHERE key_date_id = :k AND occurrence_date = :d"),
                {"k": key_date_id, "d": occurrence},
            ).all()
        engine.dispose()
        return {row.offset_days: (row.status, row.late) for row in rows}


@pytest.fixture(scope="module")
def travel(receivers: Receivers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimeTravel]:
    name = f"bantin_it_calendar_{uuid.uuid4().hex[:8]}"
    directory = tmp_path_factory.mktemp("calendar")
    clock = directory / "clock"
    clock.write_text(datetime(2027, 1, 1, 0, 0, tzinfo=HANOI).isoformat())
    # A Redis server of its own: this stack's workers must not take the main stack's
    # messages, and no database number of the shared server is assumed free.
    broker = PrivateRedis()
    broker.start()
    stack = Stack(
        create_database(name),
        broker.url,
        directory,
        **ANNOUNCEMENT_TEST_SETTINGS,
        **receivers.env(),
        BANTIN_CLOCK_FILE=str(clock),
    )
    try:
        stack.start_all()
        stack.start_beat("beat2")  # two beats at once: nothing may be sent twice
        token = stack.create_token("admin")
        path = f"/hooks/calendar-{uuid.uuid4().hex[:8]}"
        response = httpx.post(
            f"{stack.base_url}/api/v1/subscriptions",
            headers={"Authorization": f"Bearer {token}"},
            json={"channel": "webhook", "target": f"{receivers.base}{path}", "events": ["reminder.due"]},
        )
        assert response.status_code == 201, response.text
        yield TimeTravel(stack, clock, receivers, path)
    finally:
        stack.stop_all()
        broker.kill()
        drop_database(name)


def test_a_year_of_party_founding_reminders(travel: TimeTravel) -> None:
    # 08:00 on 4/1/2027 is 30 days before 3/2/2027.
    travel.set(2027, 1, 4, 7, 59)
    time.sleep(3)
    assert travel.reminders("thanh-lap-dang") == []

    travel.set(2027, 1, 4, 8, 0, 30)
    [first] = wait_until(lambda: travel.reminders("thanh-lap-dang"), 10, "the 30-day reminder")
    assert first["reminder"]["anniversary"] == 97
    assert first["reminder"]["days_before"] == 30
    assert first["reminder"]["occurrence_date"] == "2027-02-03"
    assert first["text"]["vi"] == (
        "Còn 30 ngày: Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"
    )

    travel.set(2027, 1, 27, 8, 1)
    wait_until(lambda: len(travel.reminders("thanh-lap-dang")) == 2, 10, "the 7-day reminder")

    # Downtime: everything stops before the 1-day reminder (2/2 08:00) and comes back 6 h late.
    travel.down_until(2027, 2, 2, 14, 0)
    third = wait_until(lambda: len(r := travel.reminders("thanh-lap-dang")) == 3 and r[2], 15, "the late reminder")
    assert third["reminder"]["days_before"] == 1 and third["reminder"]["late"] is True

    # Down again past the 0-day reminder (3/2 08:00) by 13 h: beyond the 12 h grace, never sent.
    travel.down_until(2027, 2, 3, 21, 0)
    wait_until(
        lambda: travel.statuses("thanh-lap-dang", "2027-02-03").get(0, ("", False))[0] == "missed",
        15,
        "the 0-day reminder to be recorded as missed",
    )
    time.sleep(2)

    days = [r["reminder"]["days_before"] for r in travel.reminders("thanh-lap-dang")]
    assert days == [30, 7, 1]  # once each, two beats notwithstanding; the missed one never
    assert travel.statuses("thanh-lap-dang", "2027-02-03") == {
        30: ("sent", False),
        7: ("sent", False),
        1: ("sent", True),
        0: ("missed", False),
    }
    webhook_ids = [r.headers["webhook-id"] for r in travel.receivers.got(travel.path)]
    assert len(webhook_ids) == len(set(webhook_ids))  # no delivery went out twice


def test_editing_a_key_date_replans_and_a_lunar_date_is_planned(travel: TimeTravel) -> None:
    stack = travel.stack
    admin = {"Authorization": f"Bearer {stack.create_token('admin')}"}
    patched = httpx.patch(
        f"{stack.base_url}/api/v1/calendar/key-dates/quoc-khanh",
        headers=admin,
        json={"send_time": "06:15", "offsets": [10, 0]},
    )
    assert patched.status_code == 200
    upcoming = httpx.get(f"{stack.base_url}/api/v1/calendar/upcoming?days=365", headers=admin).json()
    national_day = next(o for o in upcoming if o["key_date_id"] == "quoc-khanh")
    assert national_day["date"] == "2027-09-02" and national_day["anniversary"] == 82
    assert [(r["days_before"], r["due_at"]) for r in national_day["reminders"]] == [
        (10, "2027-08-22T23:15:00Z"),
        (0, "2027-09-01T23:15:00Z"),
    ]
    gio_to = next(o for o in upcoming if o["key_date_id"] == "gio-to-hung-vuong")
    assert gio_to["date"] == "2027-04-16" and gio_to["anniversary"] is None


def test_calendar_ics_and_cli(travel: TimeTravel) -> None:
    stack = travel.stack
    response = httpx.get(f"{stack.base_url}/calendar.ics")
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "UID:thanh-lap-dang-2028-02-03@127.0.0.1" in response.text
    listed = stack.run("calendar", "upcoming", "--days", "40")
    assert listed.returncode == 0 and "tet-nguyen-dan" in listed.stdout
    bad = stack.run("calendar", "add", "--name", "Sai", "--day", "31", "--month", "6")
    assert bad.returncode == 2 and "day: day 31 does not exist in month 6" in bad.stderr
    assert "does not exist" in stack.run("calendar", "show", "khong-co").stderr
