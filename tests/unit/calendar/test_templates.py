"""Key-date templates: tried for every offset when accepted; one failing at send time fails alone."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select, update

from config.settings import get_settings
from service.calendar.loader import KeyDatesFileError, load_key_dates
from service.calendar.reminders import plan_all, send_due
from service.calendar.schemas import KeyDateIn, KeyDateUpdate
from service.calendar.service import create_key_date, update_key_date
from service.db.engine import session_scope
from service.db.models import Announcement, KeyDate, Reminder
from service.errors import InvalidField
from tests.unit.api.conftest import make_token

JAN_1 = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
BASE = {"name": "Ngày truyền thống", "calendar": "solar", "day": 3, "month": 2, "origin_year": 1930}
FAILS_ON_THE_DAY = "{% if days_before == 0 %}{{ 1/0 }}{% endif %}x"


@pytest.mark.parametrize(
    ("templates", "extra", "reason"),
    [
        ({"vi": FAILS_ON_THE_DAY}, {}, "days_before=0, anniversary=1: ZeroDivisionError"),
        (
            {"en": "{% if days_before == 30 %}{{ nope }}{% endif %}x"},
            {},
            "days_before=30, anniversary=1: 'nope' is undefined",
        ),
        ({"vi": "{% if anniversary == 100 %}{{ name.upper(1, 2, 3) }}{% endif %}x"}, {}, "anniversary=100"),
        ({"vi": "{% if 'jubilee' in flags %}{{ [][1] }}{% endif %}x"}, {}, "anniversary=25"),
        ({"vi": "{{ 10 // (days_before - 3) }}"}, {"offsets": [7, 3]}, "days_before=3"),
        ({"vi": "{{ anniversary + 1 }}"}, {"origin_year": None}, "TypeError"),  # no origin: no number
        (
            {"vi": "{% if days_before == 1 %}   {% else %}x{% endif %}"},
            {},
            "days_before=1, anniversary=1: renders to nothing",
        ),
        ({"vi": "{{ ''.__class__.__mro__ }}"}, {}, "not allowed"),
        ({"vi": "{% if %}"}, {}, "syntax error"),
    ],
)
def test_a_template_that_fails_for_any_offset_is_refused(
    templates: dict[str, str], extra: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        KeyDateIn.model_validate({**BASE, **extra, "templates": templates})
    error = caught.value.errors()[0]
    assert error["ctx"]["field"] == "templates"
    assert reason in error["msg"], error["msg"]


def test_good_templates_are_accepted() -> None:
    data = KeyDateIn.model_validate(
        {**BASE, "templates": {"vi": "Còn {{ days_before }} ngày: {{ name }} lần thứ {{ anniversary }}"}}
    )
    assert data.templates["vi"].startswith("Còn")


def test_api_refuses_the_template_on_post_and_on_patch() -> None:
    with TestClient(__import__("service.api.app", fromlist=["create_app"]).create_app()) as client:
        admin = {"Authorization": f"Bearer {make_token('admin')}"}
        response = client.post(
            "/api/v1/calendar/key-dates", json={**BASE, "templates": {"vi": FAILS_ON_THE_DAY}}, headers=admin
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "templates"
        created = client.post(
            "/api/v1/calendar/key-dates",
            json={**BASE, "offsets": [7], "templates": {"vi": FAILS_ON_THE_DAY}},
            headers=admin,
        )
        assert created.status_code == 201  # with no offset 0 the branch never runs
        # Adding offset 0 now would make the stored template fail: the PATCH names the templates.
        patched = client.patch(
            f"/api/v1/calendar/key-dates/{created.json()['id']}", json={"offsets": [7, 0]}, headers=admin
        )
        assert patched.status_code == 422, patched.text
        assert patched.json()["detail"][0]["field"] == "templates"
        assert client.get(f"/api/v1/calendar/key-dates/{created.json()['id']}", headers=admin).json()["offsets"] == [7]


def test_update_checks_templates_against_the_merged_key_date() -> None:
    with session_scope() as session:
        create_key_date(session, KeyDateIn.model_validate({**BASE, "id": "kd"}), JAN_1, get_settings())
    with session_scope() as session, pytest.raises(InvalidField) as caught:
        update_key_date(
            session, "kd", KeyDateUpdate.model_validate({"templates": {"vi": FAILS_ON_THE_DAY}}), JAN_1, get_settings()
        )
    assert caught.value.field == "templates"


def test_the_seed_file_is_checked_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "key_dates.yaml"
    path.write_text(
        "key_dates:\n  - name: Ngày A\n    calendar: solar\n    day: 1\n    month: 5\n"
        f"    templates:\n      vi: '{FAILS_ON_THE_DAY}'\n",
        encoding="utf-8",
    )
    with pytest.raises(KeyDatesFileError, match=r"entry 1 \(Ngày A\): .*days_before=0: ZeroDivisionError"):
        load_key_dates(path)


@pytest.mark.parametrize(
    "template",
    # Over its budget on the day (decision 0030): before, a 10 MB reminder went out.
    [FAILS_ON_THE_DAY, "{% if days_before == 0 %}{{ 'x' * 10**7 }}{% endif %}x"],
    ids=["failing", "over its budget"],
)
def test_a_template_failing_at_send_time_fails_that_reminder_alone(template: str) -> None:
    # A template stored before templates were checked (or failing only for values not tried):
    # written straight into the row, as an old database would have it.
    with session_scope() as session:
        create_key_date(session, KeyDateIn.model_validate({**BASE, "id": "hong"}), JAN_1, get_settings())
        create_key_date(
            session, KeyDateIn.model_validate({**BASE, "id": "tot", "name": "Ngày tốt"}), JAN_1, get_settings()
        )
        session.execute(update(KeyDate).where(KeyDate.id == "hong").values(templates={"vi": template}))
    on_the_day = datetime(2027, 2, 3, 1, 0, 30, tzinfo=UTC)
    with session_scope() as session:
        plan_all(session, on_the_day, get_settings())
        result = send_due(session, on_the_day, get_settings())
    with session_scope() as session:
        statuses = {
            (r.key_date_id, r.offset_days): r.status
            for r in session.scalars(select(Reminder).where(Reminder.due_at <= on_the_day))
        }
        announced = {a.payload["reminder"]["key_date_id"] for a in session.scalars(select(Announcement))}
    # Reminders more than the grace period late are missed; the ones due now tell the story.
    assert statuses[("hong", 0)] == "failed"
    assert statuses[("tot", 0)] == "sent"
    assert announced == {"tot"}
    assert len(result.failed) == 1 and len(result.sent) == 1

    # The public calendar still answers, with the default wording for the broken key date.
    with TestClient(__import__("service.api.app", fromlist=["create_app"]).create_app()) as client:
        ics = client.get("/calendar.ics")
    assert ics.status_code == 200
    assert b"Ng\xc3\xa0y t\xe1\xbb\x91t" in ics.content and b"UID:hong-" in ics.content
    assert b"xxxxxxxxxx" not in ics.content
