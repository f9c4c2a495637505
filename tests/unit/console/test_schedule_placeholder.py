"""No time field shows a real-looking date as a placeholder, and every form that carries a time
shows the stored one as the field's value (decision 0026): an empty field with "03/02/2027
07:00" in grey once read as the article's time, and approving it published at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus
from tests.unit.console.conftest import login, make_user
from tests.unit.console.conftest import post_form as post

DRAFT = {"title": "Tin nháp", "summary": "Tóm tắt", "author": "Ban Tuyên giáo", "body_html": "<div>Nội dung</div>"}
PLANNED = datetime(2099, 2, 3, 0, 0, tzinfo=UTC)  # 03/02/2099 07:00 in Hà Nội
# A date, in any of the forms the console reads or writes.
DATE_LIKE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}(-\d{2})?")


def field(page: str, name: str) -> str:
    match = re.search(rf'<input id="{name}"[^>]*>', page)
    assert match, f"no {name} field in the page"
    return match.group(0)


def placeholders(page: str) -> list[str]:
    return re.findall(r'placeholder="([^"]*)"', page)


def test_no_time_field_has_a_date_as_its_placeholder(app_client: TestClient) -> None:
    make_user("quantri", "admin")
    login(app_client, "quantri")
    for path in ("/console/articles/new", "/console/deliveries", "/console/calendar"):
        page = app_client.get(path).text
        assert [p for p in placeholders(page) if DATE_LIKE.search(p)] == [], path


@pytest.mark.parametrize(
    ("status", "path", "value"),
    [
        (ArticleStatus.DRAFT, "", "03/02/2099 07:00"),
        (ArticleStatus.SCHEDULED, "", "03/02/2099 07:00"),
        (ArticleStatus.PENDING_REVIEW, "", "03/02/2099 07:00"),  # the review page
        (ArticleStatus.PENDING_REVIEW, "/edit", "03/02/2099 07:00"),  # an editor correcting it
        (ArticleStatus.PUBLISHED, "", ""),  # a published article's time is history, not a plan
    ],
)
def test_the_stored_time_is_the_fields_value(
    app_client: TestClient, status: ArticleStatus, path: str, value: str
) -> None:
    make_user("phongvien", "writer")
    writer = login(app_client, "phongvien")
    location = post(app_client, "/console/articles/new", writer, {**DRAFT, "action": "draft"}).headers["location"]
    with session_scope() as session:
        article = session.get(Article, int(location.rsplit("/", 1)[1]))
        assert article is not None
        article.status, article.publish_at = status.value, PLANNED
    make_user("bientap", "editor")
    login(app_client, "bientap")
    shown = field(app_client.get(location + path).text, "publish_at")
    assert f'value="{value}"' in shown and "placeholder" not in shown
