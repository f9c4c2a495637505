"""The calendar pages: upcoming anniversaries and the month view with solar and lunar dates,
key date forms that refuse what the API refuses (and store nothing), and "Soạn bài", which
makes one draft per occurrence through create_article."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.articles.categories import create_listed_category
from service.calendar import lunar
from service.db.engine import session_scope
from service.db.models import Article, ArticleRevision, Category, KeyDate, OccurrenceDraft, OutboxEvent, Reminder
from tests.unit.api.conftest import make_token
from tests.unit.console.conftest import ORIGIN, hidden, login, make_user

# The calendar's "now": 20 January 2027, 09:00 in Hà Nội; 3/2/2027 is 14 days ahead.
NOW = "2027-01-20T09:00:00+07:00"
PARTY = "thanh-lap-dang"
HEADING = "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"
GOOD = {
    "name": "Ngày thử nghiệm âm lịch",
    "name_en": "",
    "id": "",
    "calendar": "lunar",
    "day": "10",
    "month": "1",
    "origin_year": "1977",
    "scope": "local",
    "tags": "Đà Nẵng, Lịch sử",
    "offsets": "7, 0",
    "send_time": "08:00",
    "subscription_ids": "",
    "template_vi": "",
    "template_en": "",
    "active": "on",
}


@pytest.fixture
def calendar_now(settings_override: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    clock = tmp_path / "now"
    clock.write_text(NOW)
    settings_override.setenv("BANTIN_CLOCK_FILE", str(clock))
    yield


@pytest.fixture
def admin(calendar_now: None, app_client: TestClient) -> tuple[TestClient, str]:
    make_user("quantri", "admin")
    return app_client, login(app_client, "quantri")


@pytest.fixture
def editor_user(calendar_now: None, app_client: TestClient) -> tuple[TestClient, str]:
    make_user("bientap", "editor")
    return app_client, login(app_client, "bientap")


def count(model: type) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def post(client: TestClient, path: str, token: str | None, **fields: str) -> object:
    data = dict(fields) if token is None else {"csrf_token": token, **fields}
    return client.post(path, data=data, headers={"Origin": ORIGIN})


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error"[^>]*>([^<]*)</p>', html)
    assert match, f"no error by {name}"
    return match.group(1)


def month_cell(html: str, name: str) -> str:
    """The month view's cell (<td>) that lists ``name``."""
    table = html[html.index('<table class="month">') : html.index("</table>", html.index('<table class="month">'))]
    for cell in re.findall(r"<td class=.*?</td>", table, flags=re.S):
        if name in cell:
            return str(cell)
    raise AssertionError(f"{name} is not in the month view")


# ---- the list and the month view ---------------------------------------------------------------


def test_upcoming_anniversaries_show_solar_and_lunar_dates_n_and_flags(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    post(client, "/console/calendar/key-dates/new", token, **{**GOOD, "calendar": "solar", "day": "25", "month": "1"})
    page = client.get("/console/calendar")
    assert page.status_code == 200
    upcoming = page.text[page.text.index('id="upcoming"') : page.text.index('id="month"')]
    party = lunar.from_solar(date(2027, 2, 3))
    assert "03/02/2027" in upcoming and f"{party.day}/{party.month} Âm lịch" in upcoming
    assert "Ngày thành lập Đảng Cộng sản Việt Nam" in upcoming and "97 năm" in upcoming
    # 2027 − 1977 = 50: a round year and a jubilee.
    line = upcoming[upcoming.index("Ngày thử nghiệm âm lịch") :].split("</li>", 1)[0]
    assert "50 năm" in line and "năm tròn" in line and "đại lễ" in line
    assert "Soạn bài" in line


def test_a_lunar_key_date_lands_on_its_solar_day_in_the_month_view(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    assert post(client, "/console/calendar/key-dates/new", token, **GOOD).status_code == 303  # type: ignore[attr-defined]
    solar = lunar.to_solar(2027, 1, 10)  # 10 tháng Giêng Đinh Mùi
    assert solar == date(2027, 2, 15)
    page = client.get("/console/calendar?month=2027-02")
    assert page.status_code == 200
    assert "Tháng 2/2027" in page.text
    cell = month_cell(page.text, "Ngày thử nghiệm âm lịch")
    assert re.search(r'<span class="daynum" aria-hidden="true">15</span>', cell)
    assert "15/02/2027 · 10/1 Âm lịch" in cell
    assert "50 năm" in cell
    assert 'href="/console/calendar?month=2027-01#month"' in page.text
    assert 'href="/console/calendar?month=2027-03#month"' in page.text
    # The neighbouring month does not list it.
    march = client.get("/console/calendar?month=2027-03").text
    assert "Ngày thử nghiệm âm lịch" not in march[march.index('id="month"') : march.index('id="key-dates"')]


@pytest.mark.parametrize(
    ("month", "message"), [("2027-13", "không phải tháng"), ("tháng hai", "không phải tháng"), ("2100-01", "1901")]
)
def test_a_bad_month_shows_this_month_with_the_reason_by_the_field(
    editor_user: tuple[TestClient, str], month: str, message: str
) -> None:
    client, _ = editor_user
    page = client.get("/console/calendar", params={"month": month})
    assert page.status_code == 422
    assert message in field_error(page.text, "month")
    assert "Tháng 1/2027" in page.text


def test_the_dashboard_links_each_anniversary_to_the_calendar(editor_user: tuple[TestClient, str]) -> None:
    client, _ = editor_user
    page = client.get("/console/").text
    assert f'href="/console/calendar#occurrence-{PARTY}-2027-02-03"' in page
    assert f'id="occurrence-{PARTY}-2027-02-03"' in client.get("/console/calendar").text


# ---- adding and editing key dates -----------------------------------------------------------------


def test_an_admin_adds_a_key_date_and_its_reminders_are_planned(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    response = post(client, "/console/calendar/key-dates/new", token, **GOOD, channel_telegram="on")
    assert response.status_code == 303  # type: ignore[attr-defined]
    with session_scope() as session:
        key_date = session.get(KeyDate, "ngay-thu-nghiem-am-lich")
        assert key_date is not None
        assert (key_date.calendar, key_date.day, key_date.month, key_date.origin_year) == ("lunar", 10, 1, 1977)
        assert key_date.tags == ["Đà Nẵng", "Lịch sử"] and key_date.offsets == [7, 0]
        assert key_date.events_to == {"channels": ["telegram"]} and key_date.scope == "local"
        planned = session.scalars(select(Reminder).where(Reminder.key_date_id == key_date.id)).all()
        assert {r.occurrence_date for r in planned} >= {date(2027, 2, 15)}
    page = client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert "Đã thêm ngày kỷ niệm “Ngày thử nghiệm âm lịch”" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"calendar": "solar", "day": "31", "month": "2"}, "day", "Không có ngày 31 trong tháng 2"),
        ({"calendar": "solar", "day": "29", "month": "2", "origin_year": "1977"}, "day", "tháng đó có 28 ngày"),
        ({"day": "30", "month": "3", "origin_year": "2027"}, "day", "chỉ có 29 ngày"),
        ({"month": "3", "origin_year": "2027", "leap_month": "on"}, "leap_month", "không có tháng 3 nhuận"),
        ({"name": "   "}, "name", "Không được để trống."),
        ({"day": "mười"}, "day", "Phải là một số nguyên."),
        ({"month": "13"}, "month", "Tháng từ 1 đến 12."),
        ({"send_time": "25:00"}, "send_time", "HH:MM"),
        ({"offsets": "7, 400"}, "offsets", "từ 0 đến 366"),
        ({"subscription_ids": "1, hai"}, "subscription_ids", "là các số"),
        ({"id": "Có Dấu"}, "id", "chữ thường"),
        ({"template_vi": "{{ khong_co }}"}, "template_vi", "Mẫu lời nhắc không dùng được"),
        ({"origin_year": "1800"}, "origin_year", "1901"),
    ],
)
def test_bad_key_dates_show_the_error_by_the_field_keep_the_typing_and_store_nothing(
    admin: tuple[TestClient, str], fields: dict[str, str], field: str, message: str
) -> None:
    client, token = admin
    before = count(KeyDate), count(Reminder)
    response = post(client, "/console/calendar/key-dates/new", token, **{**GOOD, **fields})
    assert response.status_code == 422  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert message in field_error(html, field)
    assert f'aria-describedby="{field}-error' in html
    typed = {**GOOD, **fields}
    assert f'value="{typed["tags"]}"' in html and f'value="{typed["day"]}"' in html
    assert (count(KeyDate), count(Reminder)) == before


def test_an_admin_edits_a_key_date_and_a_bad_edit_changes_nothing(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    form = client.get(f"/console/calendar/key-dates/{PARTY}")
    assert form.status_code == 200 and 'value="Ngày thành lập Đảng Cộng sản Việt Nam"' in form.text
    values = {
        name: hidden_value(form.text, name) for name in ("name", "day", "month", "origin_year", "tags", "offsets")
    }
    values |= {"calendar": "solar", "scope": "national", "send_time": "08:00", "active": "on"}
    bad = post(client, f"/console/calendar/key-dates/{PARTY}", token, **{**values, "day": "31", "month": "4"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "Không có ngày 31 trong tháng 4/1930" in field_error(bad.text, "day")  # type: ignore[attr-defined]
    with session_scope() as session:
        key_date = session.get(KeyDate, PARTY)
        assert key_date is not None and (key_date.day, key_date.month) == (3, 2)
    good = post(client, f"/console/calendar/key-dates/{PARTY}", token, **{**values, "name_en": "the Party's founding"})
    assert good.status_code == 303  # type: ignore[attr-defined]
    with session_scope() as session:
        key_date = session.get(KeyDate, PARTY)
        assert key_date is not None and key_date.name_en == "the Party's founding" and key_date.tags == ["Đảng"]


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'id="{name}" name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_editors_read_the_calendar_but_only_admins_change_key_dates(editor_user: tuple[TestClient, str]) -> None:
    client, token = editor_user
    page = client.get("/console/calendar")
    assert page.status_code == 200 and "Thêm ngày kỷ niệm" not in page.text and ">Sửa<" not in page.text
    assert client.get("/console/calendar/key-dates/new").status_code == 403
    assert client.get(f"/console/calendar/key-dates/{PARTY}").status_code == 403
    before = count(KeyDate)
    assert post(client, "/console/calendar/key-dates/new", token, **GOOD).status_code == 403  # type: ignore[attr-defined]
    assert post(client, f"/console/calendar/key-dates/{PARTY}", token, **GOOD).status_code == 403  # type: ignore[attr-defined]
    assert count(KeyDate) == before


def test_an_unknown_key_date_is_404(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    assert client.get("/console/calendar/key-dates/khong-co").status_code == 404
    assert post(client, "/console/calendar/key-dates/khong-co/draft", token, date="2027-02-03").status_code == 404  # type: ignore[attr-defined]


# ---- draft an article from an occurrence ------------------------------------------------------------


def test_draft_from_an_occurrence_opens_the_editor_with_heading_category_and_morning(
    editor_user: tuple[TestClient, str],
) -> None:
    client, token = editor_user
    with session_scope() as session:
        create_listed_category(session, "Đảng", datetime.now(UTC))
    response = post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03")
    assert response.status_code == 303  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/console/articles/\d+", location)
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert article.title == HEADING and article.status == "draft"
        assert [c.name for c in article.categories] == ["Đảng"]
        # 07:00 in Hà Nội on the anniversary.
        assert article.publish_at == datetime(2027, 2, 3, 0, 0, tzinfo=UTC)
        assert article.created_by == "user:bientap" and article.published_at is None
        assert session.scalar(select(func.count()).select_from(ArticleRevision)) == 1
    assert count(OutboxEvent) == 0  # a draft is not announced
    editor_page = client.get(location).text
    assert f'value="{HEADING}"' in editor_page
    assert 'value="03/02/2027 07:00"' in editor_page and "dự kiến đăng lúc 03/02/2027 07:00" in editor_page
    assert "Đã soạn bài nháp" in editor_page


def test_a_second_click_opens_the_same_draft_and_a_withdrawn_one_is_replaced(
    editor_user: tuple[TestClient, str],
) -> None:
    client, token = editor_user
    first = post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03")
    second = post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03")
    assert first.headers["location"] == second.headers["location"]  # type: ignore[attr-defined]
    assert count(Article) == 1 and count(OccurrenceDraft) == 1
    assert "đã có bài" in client.get(second.headers["location"]).text  # type: ignore[attr-defined]
    calendar = client.get("/console/calendar").text
    assert f'<a class="occ-action" href="{first.headers["location"]}">Mở bài đã soạn</a>' in calendar  # type: ignore[attr-defined]

    post(client, first.headers["location"] + "/withdraw", token)  # type: ignore[attr-defined]
    third = post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03")
    assert third.headers["location"] != first.headers["location"]  # type: ignore[attr-defined]
    assert count(Article) == 2 and count(OccurrenceDraft) == 1


def test_saving_the_draft_keeps_its_intended_time_and_schedule_uses_it(editor_user: tuple[TestClient, str]) -> None:
    client, token = editor_user
    location = post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03").headers["location"]  # type: ignore[attr-defined]
    page = client.get(location).text
    fields = {
        "title": HEADING,
        "body_html": f"<p>{HEADING}</p>",
        "categories": "Đảng",
        "publish_at": "03/02/2027 07:00",
        "loaded_revision_id": hidden(page, "loaded_revision_id"),
    }
    assert post(client, location, token, **fields, action="draft").status_code == 303  # type: ignore[attr-defined]
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert article.status == "draft" and article.publish_at == datetime(2027, 2, 3, 0, 0, tzinfo=UTC)


def test_an_occurrence_whose_morning_has_passed_gets_no_publish_time(
    editor_user: tuple[TestClient, str], tmp_path: Path
) -> None:
    client, token = editor_user
    with session_scope() as session:
        key_date = session.get(KeyDate, PARTY)
        assert key_date is not None
    # Drafted on the day itself, after 07:00: a past publish_at would back-date the article.
    (tmp_path / "now").write_text("2027-02-03T10:00:00+07:00")
    post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03")
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert article.title == HEADING and article.publish_at is None


@pytest.mark.parametrize("day", ["2027-02-04", "1930-02-03", "2027-02-30", "", "9999-02-03"])
def test_a_date_that_is_not_an_occurrence_drafts_nothing(editor_user: tuple[TestClient, str], day: str) -> None:
    client, token = editor_user
    response = post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date=day)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert "Không soạn được bài" in client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert count(Article) == 0


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    before = count(KeyDate)
    for path, fields in [
        (f"/console/calendar/key-dates/{PARTY}/draft", {"date": "2027-02-03"}),
        ("/console/calendar/key-dates/new", GOOD),
        (f"/console/calendar/key-dates/{PARTY}", {**GOOD, "name": "Đổi tên"}),
    ]:
        refused = post(client, path, None, **fields)
        assert refused.status_code == 403, path  # type: ignore[attr-defined]
        assert "không có gì được thay đổi" in refused.text  # type: ignore[attr-defined]
        wrong = post(client, path, "sai-token", **fields)
        assert wrong.status_code == 403, path  # type: ignore[attr-defined]
    assert count(Article) == 0 and count(KeyDate) == before
    with session_scope() as session:
        key_date = session.get(KeyDate, PARTY)
        assert key_date is not None and key_date.name == "Ngày thành lập Đảng Cộng sản Việt Nam"


# ---- the same through the API ----------------------------------------------------------------------


def test_the_api_drafts_once_per_occurrence_with_documented_errors(calendar_now: None, app_client: TestClient) -> None:
    writer = {"Authorization": f"Bearer {make_token('write')}"}
    url = f"/api/v1/calendar/key-dates/{PARTY}/draft"
    with session_scope() as session:
        create_listed_category(session, "Đảng", datetime.now(UTC))
    created = app_client.post(url, params={"date": "2027-02-03"}, headers=writer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (
        body["title"] == HEADING and body["status"] == "draft" and [c["name"] for c in body["categories"]] == ["Đảng"]
    )
    assert body["publish_at"].startswith("2027-02-03T00:00:00") and body["created_by"].startswith("token:")
    assert created.headers["location"] == f"/api/v1/articles/{body['id']}"
    again = app_client.post(url, params={"date": "2027-02-03"}, headers=writer)
    assert again.status_code == 200 and again.json()["id"] == body["id"]

    wrong_day = app_client.post(url, params={"date": "2027-02-04"}, headers=writer)
    assert wrong_day.status_code == 422
    assert wrong_day.json()["detail"][0]["field"] == "date" and "2027-02-03" in wrong_day.json()["detail"][0]["message"]
    assert app_client.post(url, headers=writer).status_code == 422
    missing = app_client.post(
        "/api/v1/calendar/key-dates/khong-co/draft", params={"date": "2027-02-03"}, headers=writer
    )
    assert missing.status_code == 404
    assert app_client.post(url, params={"date": "2027-02-03"}).status_code == 401
    assert count(Article) == 1


def test_a_writer_reads_the_calendar_and_drafts_but_cannot_change_key_dates(
    calendar_now: None, app_client: TestClient
) -> None:
    make_user("phongvien", "writer")
    token = login(app_client, "phongvien")
    page = app_client.get("/console/calendar")
    assert page.status_code == 200 and "Soạn bài" in page.text and "Thêm ngày kỷ niệm" not in page.text
    assert app_client.get("/console/calendar/key-dates/new").status_code == 403
    response = post(app_client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03")
    assert response.status_code == 303  # type: ignore[attr-defined]
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert article.status == "draft" and article.created_by == "user:phongvien"


def test_the_month_view_offers_no_new_draft_for_a_day_already_past(admin: tuple[TestClient, str]) -> None:
    """Today is 20/1/2027: an occurrence on the 10th is past (no "Soạn bài"), the 20th and 25th are not."""
    client, token = admin
    for name, day in (("Ngày đã qua", "10"), ("Ngày hôm nay", "20"), ("Ngày sắp tới", "25")):
        fields = {**GOOD, "name": name, "calendar": "solar", "day": day, "origin_year": "2000", "scope": "national"}
        assert post(client, "/console/calendar/key-dates/new", token, **fields).status_code == 303  # type: ignore[attr-defined]
    page = client.get("/console/calendar?month=2027-01").text
    assert 'value="2027-01-10"' not in month_cell(page, "Ngày đã qua")
    assert "Soạn bài" not in month_cell(page, "Ngày đã qua")
    assert 'name="date" value="2027-01-20"' in month_cell(page, "Ngày hôm nay")
    assert 'name="date" value="2027-01-25"' in month_cell(page, "Ngày sắp tới")


@pytest.mark.parametrize(
    ("existing", "drafted"),
    [
        (["Xây dựng Đảng"], []),  # a category that merely contains the tag is not it
        (["Xây dựng Đảng", "đảng"], ["đảng"]),  # the same words, any case: the existing one, as it is named
        (["DANG"], ["DANG"]),  # without diacritics too
        ([], []),  # a tag no category has creates none
    ],
)
def test_a_calendar_draft_takes_the_existing_categories_its_tags_name(
    editor_user: tuple[TestClient, str], existing: list[str], drafted: list[str]
) -> None:
    client, token = editor_user
    with session_scope() as session:
        for name in existing:
            create_listed_category(session, name, datetime.now(UTC))
    post(client, f"/console/calendar/key-dates/{PARTY}/draft", token, date="2027-02-03")
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert [c.name for c in article.categories] == drafted
        assert sorted(session.scalars(select(Category.name))) == sorted(existing)
