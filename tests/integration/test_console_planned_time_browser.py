"""Approving or saving a planned article schedules it and sends nothing until its time
(issue 20.1, decision 0026), in Chromium on the real stack, for each form that carries a
time: the review page, the editor, and a draft made from the calendar.

Each form shows the stored time as its field's value and its primary button names it; the
article ends scheduled for that time with no outbox event and no delivery to a subscriber of
its category. The review test then lets the time come (its publish_at moved into the past,
as the clock would) and sees the beat publish it and the subscriber receive it once.
Screenshots at 1280 and 375 px go to test-output/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.integration.announce import Subscriber, deliveries_of
from tests.integration.receivers import Receivers
from tests.integration.stack import Stack, wait_until
from tests.integration.test_console_browser import PASSWORD, focus_editor, make_staff, run_cli, screenshot, sign_in

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, str]:
    """A writer and an editor of this module's own (usernames are unique across the session's stack)."""
    names = {"writer": "phongvienhen", "editor": "bientaphen"}
    make_staff(stack, *((username, role) for role, username in names.items()))
    return names


@pytest.fixture(scope="module")
def database(stack: Stack) -> Iterator[Engine]:
    """The stack's database, read directly to see what was written (the outbox)."""
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
    yield engine
    engine.dispose()


def morning(day: date) -> datetime:
    """07:00 in Hà Nội on ``day``: BANTIN_CALENDAR_DRAFT_TIME, a calendar draft's time."""
    return datetime.combine(day, time(7, 0), ZONE)


def planned(days: int) -> datetime:
    """The morning ``days`` ahead."""
    return morning(datetime.now(ZONE).date() + timedelta(days=days))


def shown(when: datetime) -> str:
    return f"{when.astimezone(ZONE):%d/%m/%Y %H:%M}"


def article(client: httpx.Client, article_id: int | str) -> dict[str, Any]:
    response = client.get(f"/api/v1/articles/{article_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def outbox_of(database: Engine, article_id: int | str) -> list[str]:
    with database.connect() as connection:
        rows = connection.execute(
            text("SELECT type FROM outbox_events WHERE article_id = :id ORDER BY id"), {"id": int(article_id)}
        )
        return [row[0] for row in rows]


def assert_scheduled_and_silent(
    publisher: httpx.Client, admin: httpx.Client, database: Engine, article_id: int | str, when: datetime, hook: int
) -> None:
    """Scheduled for ``when``, no event written, no delivery planned for the category's subscriber."""
    body = article(publisher, article_id)
    assert body["status"] == "scheduled" and body["published_at"] is None
    assert datetime.fromisoformat(body["publish_at"]) == when
    assert outbox_of(database, article_id) == []
    assert deliveries_of(admin, hook) == []


def page_of(browser: Browser, stack: Stack, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, username, PASSWORD)
    return context, page


def key_date_on(stack: Stack, admin: httpx.Client, day: date, name: str, unique: str) -> None:
    """A solar key date on ``day``, tagged with the test's category (which exists: a draft takes
    only existing categories from the tags), without reminders."""
    made = run_cli(stack, "categories", "create", f"Tin {unique}")
    assert made.returncode == 0, made.stderr
    key_date = {
        "name": name,
        "calendar": "solar",
        "day": day.day,
        "month": day.month,
        "origin_year": day.year - 40,
        "tags": [f"Tin {unique}"],
        "offsets": [],  # no reminders: these tests are about the article
    }
    response = admin.post("/api/v1/calendar/key-dates", json=key_date)
    assert response.status_code == 201, response.text


def draft_from_calendar(page: Page, day: date, name: str) -> str:
    """Press "Soạn bài" on the occurrence in the month view; the draft's id, from the editor's address."""
    page.goto(f"/console/calendar?month={day:%Y-%m}")
    page.locator("#month td", has_text=name).get_by_role("button", name=f"Soạn bài: {name}").click()
    expect(page.get_by_role("heading", name="Sửa bài")).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def test_approving_a_calendar_draft_schedules_it_for_its_morning_and_sends_nothing_until_then(
    stack: Stack,
    people: dict[str, str],
    browser: Browser,
    publisher: httpx.Client,
    admin: httpx.Client,
    subscriber: Subscriber,
    receivers: Receivers,
    database: Engine,
    unique: str,
) -> None:
    hook_path = f"/hooks/planned-{unique}"
    hook = subscriber.add("webhook", f"{receivers.base}{hook_path}")["id"]
    day = datetime.now(ZONE).date() + timedelta(days=40)
    name = f"Ngày thử duyệt {unique}"
    key_date_on(stack, admin, day, name, unique)
    when = morning(day)
    writer_ctx, writer = page_of(browser, stack, people["writer"])
    editor_ctx, editor = page_of(browser, stack, people["editor"])
    try:
        # The writer drafts the anniversary's article from the calendar and submits it.
        article_id = draft_from_calendar(writer, day, name)
        expect(writer.locator(".editor-head")).to_contain_text(f"dự kiến đăng lúc {shown(when)}")
        writer.get_by_role("button", name="Gửi duyệt").click()
        expect(writer.get_by_role("status")).to_contain_text("gửi cho ban biên tập duyệt")
        assert article(publisher, article_id)["publish_at"] is not None  # submitting keeps its time

        # The review page shows that time as the field's value, and the primary button says it.
        editor.goto(f"/console/articles/{article_id}")
        field = editor.get_by_label("Thời điểm đăng")
        expect(field).to_have_value(shown(when))
        assert field.get_attribute("placeholder") is None
        primary = editor.locator("button.primary")
        expect(primary).to_have_text(f"Duyệt và hẹn giờ {shown(when)}")
        expect(editor.get_by_role("button", name="Duyệt và xuất bản ngay")).not_to_have_class("primary")
        screenshot(editor, "review-planned")
        primary.click()
        expect(editor.get_by_role("status")).to_contain_text(f"sẽ được đăng lúc {shown(when)}")
        assert_scheduled_and_silent(publisher, admin, database, article_id, when, hook)
        assert receivers.got(hook_path) == []

        # The time comes (its publish_at moved into the past, as the clock would move): the
        # beat publishes it and the subscriber gets it, once.
        with database.begin() as connection:
            connection.execute(
                text("UPDATE articles SET publish_at = now() - interval '1 minute' WHERE id = :id"),
                {"id": int(article_id)},
            )
        [received] = wait_until(lambda: receivers.got(hook_path), 20, "the announcement at the planned time")
        assert received.json()["data"]["article"]["guid"] == article(publisher, article_id)["guid"]
        assert outbox_of(database, article_id) == ["article.published"]

        # Published, the writer's own article opens read-only, with the sentence saying why.
        writer.goto(f"/console/articles/{article_id}")
        expect(writer.get_by_role("note")).to_contain_text("Bài đã đăng nên phóng viên chỉ xem được")
        expect(writer.locator("form.editor button")).to_have_count(0)
        expect(writer.get_by_label("Tiêu đề")).to_be_disabled()
        screenshot(writer, "editor-published-read-only-for-writer")
    finally:
        writer_ctx.close()
        editor_ctx.close()


def test_the_editor_schedules_a_planned_draft_at_its_time_and_refuses_a_typed_time_with_publish_now(
    stack: Stack,
    people: dict[str, str],
    browser: Browser,
    publisher: httpx.Client,
    admin: httpx.Client,
    subscriber: Subscriber,
    receivers: Receivers,
    database: Engine,
    unique: str,
) -> None:
    hook = subscriber.add("webhook", f"{receivers.base}/hooks/editor-{unique}")["id"]
    when = planned(45)
    context, page = page_of(browser, stack, people["editor"])
    try:
        body = {"title": f"Bài hẹn giờ {unique}", "body_html": "<p>Nội dung</p>", "categories": [f"Tin {unique}"]}
        created = publisher.post("/api/v1/articles", json={**body, "status": "draft", "publish_at": when.isoformat()})
        article_id = created.json()["id"]
        page.goto(f"/console/articles/{article_id}")
        expect(page.get_by_label("Thời điểm đăng")).to_have_value(shown(when))
        primary = page.locator("form.editor button.primary")
        expect(primary).to_have_text(f"Hẹn giờ đăng {shown(when)}")
        screenshot(page, "editor-planned-draft")
        primary.click()
        expect(page.get_by_role("status")).to_contain_text(f"sẽ được đăng lúc {shown(when)}")
        assert_scheduled_and_silent(publisher, admin, database, article_id, when, hook)

        # A new article: a time typed, then "Xuất bản ngay" pressed. Which was meant? Nothing is
        # stored; the field keeps the time and the message says how to do either.
        page.goto("/console/articles/new")
        page.get_by_label("Tiêu đề").fill(f"Bài mới {unique}")
        page.get_by_label("Chuyên mục mới").fill(f"Tin {unique}")
        focus_editor(page)
        page.keyboard.type("Nội dung bài mới")
        expect(page.locator("#body_html")).to_have_value("<div>Nội dung bài mới</div>")
        typed = shown(planned(50))
        page.get_by_label("Thời điểm đăng").fill(typed)
        # The schedule button now names the typed time and is the primary one.
        expect(page.locator("form.editor button.primary")).to_have_text(f"Hẹn giờ đăng {typed}")
        page.get_by_role("button", name="Xuất bản ngay").click()
        expect(page.locator("#publish_at-error")).to_contain_text("chọn đăng ngay")
        expect(page.get_by_label("Thời điểm đăng")).to_have_value(typed)
        screenshot(page, "editor-typed-time-publish-now")
        listed = publisher.get("/api/v1/articles", params={"category": f"tin-{unique}"}).json()
        assert [a["title"] for a in listed["items"]] == [body["title"]]
        # A day that does not exist is named as such.
        page.get_by_label("Thời điểm đăng").fill("31/02/2027 07:00")
        page.locator("form.editor button.primary").click()
        expect(page.locator("#publish_at-error")).to_have_text("Ngày 31/02/2027 không có.")
    finally:
        context.close()


def test_an_editor_schedules_a_calendar_draft_for_the_anniversary_morning(
    stack: Stack,
    people: dict[str, str],
    browser: Browser,
    publisher: httpx.Client,
    admin: httpx.Client,
    subscriber: Subscriber,
    receivers: Receivers,
    database: Engine,
    unique: str,
) -> None:
    hook = subscriber.add("webhook", f"{receivers.base}/hooks/calendar-{unique}")["id"]
    day = datetime.now(ZONE).date() + timedelta(days=30)
    name = f"Ngày thử hẹn giờ {unique}"
    key_date_on(stack, admin, day, name, unique)
    when = morning(day)
    context, page = page_of(browser, stack, people["editor"])
    try:
        article_id = draft_from_calendar(page, day, name)
        expect(page.get_by_label("Thời điểm đăng")).to_have_value(shown(when))
        primary = page.locator("form.editor button.primary")
        expect(primary).to_have_text(f"Hẹn giờ đăng {shown(when)}")
        screenshot(page, "calendar-draft-planned")
        primary.click()
        expect(page.get_by_role("status")).to_contain_text(f"sẽ được đăng lúc {shown(when)}")
        assert_scheduled_and_silent(publisher, admin, database, article_id, when, hook)
    finally:
        context.close()
