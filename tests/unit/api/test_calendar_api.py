from fastapi.testclient import TestClient

from tests.unit.api.conftest import make_token


def test_calendar_reads_and_key_date_management(client: TestClient, publisher: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    year = client.get("/api/v1/calendar/occurrences?year=2027", headers=publisher)
    assert year.status_code == 200
    party = next(o for o in year.json() if o["key_date_id"] == "thanh-lap-dang")
    assert party == {
        "key_date_id": "thanh-lap-dang",
        "name": "Ngày thành lập Đảng Cộng sản Việt Nam",
        "date": "2027-02-03",
        "anniversary": 97,
        "flags": [],
    }

    body = {
        "name": "Ngày truyền thống",
        "calendar": "solar",
        "day": 15,
        "month": 10,
        "origin_year": 2001,
        "offsets": [3, 0],
        "send_time": "07:30",
    }
    assert client.post("/api/v1/calendar/key-dates", json=body, headers=publisher).status_code == 403
    created = client.post("/api/v1/calendar/key-dates", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["id"] == "ngay-truyen-thong"
    assert client.post("/api/v1/calendar/key-dates", json=body, headers=admin).status_code == 409
    patched = client.patch("/api/v1/calendar/key-dates/ngay-truyen-thong", json={"day": 31, "month": 11}, headers=admin)
    assert patched.status_code == 422 and patched.json()["detail"][0]["field"] == "day"
    assert client.get("/api/v1/calendar/key-dates/ngay-truyen-thong", headers=publisher).json()["day"] == 15

    upcoming = client.get("/api/v1/calendar/upcoming?days=400", headers=publisher).json()
    ours = [o for o in upcoming if o["key_date_id"] == "ngay-truyen-thong"]
    assert ours and [r["days_before"] for r in ours[0]["reminders"]] == [3, 0]
    assert client.delete("/api/v1/calendar/key-dates/ngay-truyen-thong", headers=admin).status_code == 204
    assert client.get("/api/v1/calendar/key-dates/ngay-truyen-thong", headers=publisher).status_code == 404


def test_bad_key_dates_are_422_naming_the_field(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    cases = [
        ({"name": "A", "calendar": "solar", "day": 31, "month": 9}, "day"),
        ({"name": "A", "calendar": "lunar", "day": 30, "month": 12, "origin_year": 2024}, "day"),
        ({"name": "A", "calendar": "hijri", "day": 1, "month": 1}, "calendar"),
        ({"name": "A", "calendar": "solar", "day": 1, "month": 1, "send_time": "25:00"}, "send_time"),
    ]
    before = len(client.get("/api/v1/calendar/key-dates", headers=admin).json())
    for body, field in cases:
        response = client.post("/api/v1/calendar/key-dates", json=body, headers=admin)
        assert response.status_code == 422, body
        assert field in {e["field"] for e in response.json()["detail"]}
    assert len(client.get("/api/v1/calendar/key-dates", headers=admin).json()) == before
    assert client.get("/api/v1/calendar/occurrences?year=1800", headers=admin).status_code == 422


def test_calendar_ics_is_public_text_calendar(client: TestClient) -> None:
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert (
        b"BEGIN:VCALENDAR" in response.content
        and b"Gi\xe1\xbb\x97 T\xe1\xbb\x95 H\xc3\xb9ng V\xc6\xb0\xc6\xa1ng" in response.content
    )
