"""The calendar, subscribers, delivery log and image upload in English (``?lang=en``, then the cookie):
headings, labels, status words, field errors and flash messages, with no Vietnamese left in the chrome.

What stays Vietnamese on an English page is data (a key date's name, its tags) and the name of
the other language in the switch ("Tiếng Việt"); everything else the page says comes from the
catalogue. The environment is StrictUndefined, so each page rendering at all is a check too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import DeliveryStatus, KeyDate, User
from service.i18n import use_language
from service.media.images import Budget, ImageRefused, clean_image
from tests.unit.console.conftest import ORIGIN, login, make_user
from tests.unit.console.conftest import post_form as post
from tests.unit.console.test_deliveries_pages import delivered, subscriber
from tests.unit.console.test_subscribers_pages import PUBLIC_HOOK
from tests.unit.media.samples import png_bomb, renamed_exe

# Letters only Vietnamese writes (a, e, i, o, u, y with marks; đ): a word with one is not English.
VIETNAMESE = re.compile(
    r"[\wà-ỹđĐ]*[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ][\wà-ỹ]*", re.I
)
# Text people read that is not between tags: labels for screen readers, tooltips, placeholders, script messages.
ATTRIBUTES = re.compile(r'\s(?:aria-label|title|placeholder|data-msg-[\w-]+)="([^"]*)"')
SWITCH = re.compile(r'<a[^>]*hreflang="vi"[^>]*>Tiếng Việt</a>')


def read_text(page: str) -> str:
    """What a person reads or hears: the text between tags and the attributes above; scripts and styles out."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S)
    body = SWITCH.sub("", body)
    return " ".join([re.sub(r"<[^>]+>", " ", body), *ATTRIBUTES.findall(body)])


def leftover_vietnamese(page: str, data: Iterable[str] = ()) -> list[str]:
    """Vietnamese words in ``page`` once the ``data`` strings (names typed by people) are taken out."""
    text = read_text(page)
    for value in sorted([*data, *people_data()], key=len, reverse=True):
        text = text.replace(value, " ")
    return sorted(set(VIETNAMESE.findall(text)))


def people_data() -> list[str]:
    """What people typed that every console page shows: the site's title and users' display names."""
    with session_scope() as session:
        return [get_settings().site_title, *session.scalars(select(User.display_name))]


def key_date_data() -> list[str]:
    """Every key date's name and tags: data, shown as typed on an English page too."""
    with session_scope() as session:
        found: list[str] = []
        for key_date in session.scalars(select(KeyDate)):
            found += [key_date.name, *(key_date.tags or [])]
        return found


def in_english(client: TestClient) -> None:
    """Switch the console to English the way a person does: one ``?lang=en``, remembered by the cookie."""
    assert client.get("/console/?lang=en").status_code == 200


# ---- calendar ---------------------------------------------------------------------------------

KEY_DATE = {
    "name": "Ngày thử nghiệm",
    "name_en": "Test day",
    "id": "",
    "calendar": "solar",
    "day": "31",
    "month": "2",
    "origin_year": "",
    "scope": "national",
    "tags": "Lịch sử",
    "offsets": "7, 0",
    "send_time": "08:00",
    "subscription_ids": "",
    "template_vi": "",
    "template_en": "",
    "active": "on",
}


def test_the_calendar_and_a_month_view_are_in_english(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    in_english(client)
    page = client.get("/console/calendar?month=2027-02")
    assert page.status_code == 200
    for words in ("Key dates", "Coming up in the next", "2/2027", "Previous month", "Next month", "Mon", "Sun"):
        assert words in page.text, words
    assert "Lunar calendar" in page.text and "Add a key date" in page.text
    assert leftover_vietnamese(page.text, key_date_data()) == []

    bad = client.get("/console/calendar?month=2027-13")
    assert bad.status_code == 422 and "“2027-13” is not a month as yyyy-mm (e.g. 2027-02)." in bad.text
    assert leftover_vietnamese(bad.text, key_date_data()) == []


def test_the_key_date_form_and_its_errors_are_in_english(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    in_english(client)
    form = client.get("/console/calendar/key-dates/new")
    assert "Key date name" in form.text and "Add a key date" in form.text and "Reminder time" in form.text
    assert leftover_vietnamese(form.text) == []

    refused = post(client, "/console/calendar/key-dates/new", token, KEY_DATE)
    assert refused.status_code == 422
    assert "There is no day 31 in month 2: that month has 29 days." in refused.text
    assert leftover_vietnamese(refused.text, [KEY_DATE["name"], KEY_DATE["tags"]]) == []
    leap = post(client, "/console/calendar/key-dates/new", token, {**KEY_DATE, "day": "3", "leap_month": "on"})
    assert "Only lunar dates have leap months." in leap.text

    added = post(client, "/console/calendar/key-dates/new", token, {**KEY_DATE, "day": "3"})
    assert added.status_code == 303
    assert "Key date “Ngày thử nghiệm” added." in client.get(added.headers["location"]).text


# ---- subscribers --------------------------------------------------------------------------------


def test_the_subscribers_pages_and_the_add_form_are_in_english(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    in_english(client)
    empty = client.get("/console/subscribers")
    assert "Subscribers" in empty.text and "Add a subscriber" in empty.text and "0 subscribers." in empty.text
    assert leftover_vietnamese(empty.text) == []

    form = client.get("/console/subscribers/new?channel=email")
    assert "E-mail address" in form.text and "Save subscriber" in form.text and "Article published" in form.text
    assert leftover_vietnamese(form.text) == []
    refused = post(client, "/console/subscribers/new", token, {"channel": "webhook", "target": "https://10.0.0.5/h"})
    assert refused.status_code == 422
    assert "Points at an internal or reserved address (10.0.0.5); only public addresses can be sent to." in refused.text
    assert leftover_vietnamese(refused.text) == []

    webhook = post(client, "/console/subscribers/new", token, {"channel": "webhook", "target": PUBLIC_HOOK})
    assert webhook.status_code == 200 and "This is the only time the signing secret is shown." in webhook.text
    assert leftover_vietnamese(webhook.text) == []
    added = post(client, "/console/subscribers/new", token, {"channel": "email", "target": "desk@example.com"})
    assert added.status_code == 303
    detail = client.get(added.headers["location"]).text
    assert "Subscriber added; send a test message to check the channel." in detail
    assert "Send a test message" in detail and "Recent deliveries" in detail and ">Active</span>" in detail
    assert leftover_vietnamese(detail) == []
    paused = post(client, f"{added.headers['location']}/pause", token)
    page = client.get(paused.headers["location"]).text
    assert "Sending to this subscriber is paused." in page and ">Paused</span>" in page and ">Resume</button>" in page


# ---- the delivery log ---------------------------------------------------------------------------


def test_the_delivery_log_and_its_errors_are_in_english(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    subscription_id = subscriber("desk@example.com")
    delivered(subscription_id, "Budget approved", DeliveryStatus.FAILED, [(500, None), (None, "timed out")])
    in_english(client)
    log = client.get("/console/deliveries")
    assert log.status_code == 200
    for words in ("Delivery log", "1 delivery.", "Failed", "Attempts", "Retry", "Retry failed deliveries"):
        assert words in log.text, words
    assert leftover_vietnamese(log.text) == []

    bad = post(client, "/console/deliveries/recover", token, {"subscription": "abc", "since": "01/01/2026 00:00"})
    assert bad.status_code == 422 and "Must be a positive whole number (the ID shown in the log)." in bad.text
    future = post(
        client,
        "/console/deliveries/recover",
        token,
        {"subscription": str(subscription_id), "since": "01/01/2199 00:00"},
    )
    assert future.status_code == 422 and "That time has not come yet; choose a time in the past." in future.text
    assert leftover_vietnamese(future.text) == []
    not_a_date = post(client, "/console/deliveries/recover", token, {"subscription": "1", "since": "31/02/2026 08:00"})
    assert "The day 31/02/2026 does not exist." in not_a_date.text


# ---- image upload -------------------------------------------------------------------------------


@pytest.fixture
def media_dir(settings_override: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "media"
    settings_override.setenv("BANTIN_MEDIA_DIR", str(directory))
    settings_override.setenv("BANTIN_MEDIA_MAX_BYTES", "200000")
    return directory


def upload(client: TestClient, token: str, data: bytes) -> httpx.Response:
    response: httpx.Response = client.post(
        "/console/media",
        data={"csrf_token": token},
        files={"file": ("anh.jpg", data, "image/jpeg")},
        headers={"Origin": ORIGIN},
    )
    return response


def test_upload_refusals_and_the_editors_image_messages_are_in_english(media_dir: Path, app_client: TestClient) -> None:
    make_user()
    token = login(app_client)
    in_english(app_client)
    not_an_image = upload(app_client, token, renamed_exe())
    assert not_an_image.status_code == 422
    assert not_an_image.json()["message"].startswith("This file is not a JPEG, PNG, WebP or GIF image")
    over = upload(app_client, token, b"\xff\xd8" + b"\0" * 200_000)
    assert over.status_code == 413 and "at most 0.2 MB" in over.json()["message"]  # English decimal point
    editor = app_client.get("/console/articles/new").text
    assert 'data-msg-uploading="Uploading image…"' in editor and "Upload a cover image" in editor
    assert leftover_vietnamese(editor) == []


def test_pixel_counts_are_written_the_languages_way() -> None:
    for code, size in (("vi", "8.000 × 8.000"), ("en", "8,000 × 8,000")):
        with use_language(code), pytest.raises(ImageRefused) as refused:
            clean_image(png_bomb(8_000, 8_000), Budget.of(get_settings()))
        assert size in refused.value.message
    assert "at most 50 million pixels" in refused.value.message
