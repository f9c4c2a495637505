"""The editor's schedule field shows its example date only where scheduling is still open
(a new article, a draft, one awaiting review, a scheduled one), not on published or withdrawn ones."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus
from tests.unit.console.conftest import post_form as post

DRAFT = {"title": "Tin nháp", "summary": "Tóm tắt", "author": "Ban Tuyên giáo", "body_html": "<div>Nội dung</div>"}
EXAMPLE = 'placeholder="03/02/2027 07:00"'


def schedule_field(page: str) -> str:
    start = page.index('<input id="publish_at"')
    return page[start : page.index(">", start) + 1]


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (ArticleStatus.DRAFT, True),
        (ArticleStatus.PENDING_REVIEW, True),
        (ArticleStatus.SCHEDULED, True),
        (ArticleStatus.PUBLISHED, False),
        (ArticleStatus.WITHDRAWN, False),
    ],
)
def test_the_example_date_shows_only_where_scheduling_is_open(
    editor: tuple[TestClient, str], status: ArticleStatus, shown: bool
) -> None:
    client, token = editor
    assert EXAMPLE in schedule_field(client.get("/console/articles/new").text)
    location = post(client, "/console/articles/new", token, {**DRAFT, "action": "draft"}).headers["location"]
    with session_scope() as session:
        article = session.get(Article, int(location.rsplit("/", 1)[1]))
        assert article is not None
        article.status = status.value
    assert (EXAMPLE in schedule_field(client.get(location).text)) is shown
