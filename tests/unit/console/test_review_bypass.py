"""The reported bypass (issue 18.1): a writer restored an older revision of an article an editor
had approved and scheduled; it stayed scheduled and the unreviewed text went out at its time.
Now any writer change to it (restore, edit, an API PATCH) sends it back to review, unscheduled,
its time kept for the editor, who sees it on the review page and approves it again.

Run on SQLite here and on PostgreSQL by tests/integration/test_review_bypass_pg.py.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import get_settings
from service.articles.service import publish_due_articles
from service.console.templating import local_time
from service.db.engine import session_scope
from service.db.models import Article, ArticleReview, ArticleRevision, OutboxEvent
from service.db.types import utcnow
from tests.unit.api.conftest import make_token
from tests.unit.console.conftest import ORIGIN, hidden, login, make_user

FIRST = {"title": "Bản thảo chưa duyệt", "body_html": "<div>Nội dung chưa kiểm tra</div>", "author": "PV"}
APPROVED = {**FIRST, "title": "Bản đã duyệt", "body_html": "<div>Nội dung đã kiểm tra</div>"}


def post(client: TestClient, path: str, token: str, **fields: str) -> httpx.Response:
    response: httpx.Response = client.post(path, data={"csrf_token": token, **fields}, headers={"Origin": ORIGIN})
    return response


def planned_time() -> datetime:
    """Two days ahead, to the minute (what the console's dd/mm/yyyy HH:mm can name)."""
    return (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)


def approved_and_scheduled(client: TestClient, when: datetime) -> tuple[str, int]:
    """A writer's article (an unchecked first revision, then the checked text), submitted and
    approved by an editor for ``when``; (its console path, the id of its first revision)."""
    make_user("phongvien", "writer")
    make_user("bientap", "editor")
    writer = login(client, "phongvien")
    location = post(client, "/console/articles/new", writer, **FIRST, action="draft").headers["location"]
    loaded = hidden(client.get(location).text, "loaded_revision_id")
    assert post(client, location, writer, **APPROVED, action="submit", loaded_revision_id=loaded).status_code == 303
    editor = login(client, "bientap")
    approved = post(client, f"{location}/approve", editor, publish_at=local_time(when), action="schedule")
    assert approved.status_code == 303, approved.text
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert (article.status, article.publish_at, article.title) == ("scheduled", when, APPROVED["title"])
        first = session.scalars(select(ArticleRevision.id).order_by(ArticleRevision.id)).first()
        assert first is not None
    return location, first


def assert_back_in_review(when: datetime, title: str) -> None:
    """Pending review with the writer's text, its time kept, nothing published at that time."""
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert (article.status, article.title, article.publish_at) == ("pending_review", title, when)
        review = session.scalars(select(ArticleReview).order_by(ArticleReview.id.desc())).first()
        assert review is not None and (review.status, review.requested_by) == ("in_review", "user:phongvien")
    with session_scope() as session:  # beat at the planned time, and after it
        assert publish_due_articles(session, when + timedelta(minutes=1), get_settings()) == []
    with session_scope() as session:
        assert session.scalars(select(OutboxEvent.type)).all() == []  # nothing announced, ever
        assert session.scalars(select(Article.status)).one() == "pending_review"


def test_a_writer_restoring_an_older_revision_of_an_approved_scheduled_article_sends_it_back_to_review(
    app_client: TestClient,
) -> None:
    when = planned_time()
    location, first = approved_and_scheduled(app_client, when)
    writer = login(app_client, "phongvien")
    assert post(app_client, f"{location}/revisions/{first}/restore", writer).status_code == 303
    assert_back_in_review(when, FIRST["title"])

    # The editor sees it again, at the time it was approved for, and approves it for that time.
    editor = login(app_client, "bientap")
    page = app_client.get(location).text
    assert f'value="{local_time(when)}"' in page and f"Duyệt và hẹn giờ {local_time(when)}" in page
    assert post(app_client, f"{location}/approve", editor, publish_at=local_time(when)).status_code == 303
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        assert (article.status, article.publish_at) == ("scheduled", when)


def test_a_writer_editing_an_approved_scheduled_article_sends_it_back_to_review(app_client: TestClient) -> None:
    when = planned_time()
    location, _ = approved_and_scheduled(app_client, when)
    writer = login(app_client, "phongvien")
    page = app_client.get(location).text
    assert "quay lại chờ duyệt" in page and "Lưu và gửi duyệt lại" in page  # said before saving
    changed = {**APPROVED, "title": "Tít sửa sau khi duyệt"}
    loaded = hidden(page, "loaded_revision_id")
    assert post(app_client, location, writer, **changed, action="save", loaded_revision_id=loaded).status_code == 303
    assert_back_in_review(when, changed["title"])


def test_a_writer_token_patching_an_approved_scheduled_article_sends_it_back_to_review(app_client: TestClient) -> None:
    when = planned_time()
    editor = {"Authorization": f"Bearer {make_token('publish')}"}
    writer = {"Authorization": f"Bearer {make_token('write')}"}
    created = app_client.post("/api/v1/articles", json={**FIRST, "status": "draft"}, headers=writer).json()
    url = f"/api/v1/articles/{created['id']}"
    assert app_client.post(f"{url}/submit", headers=writer).status_code == 200
    approved = app_client.post(f"{url}/approve", json={"publish_at": when.isoformat()}, headers=editor)
    assert approved.json()["status"] == "scheduled"
    for change in (
        {"categories": ["Xây dựng Đảng"]},
        {"image_url": "https://anh.example.vn/bia.jpg", "image_alt": "Lễ đài"},
    ):
        response = app_client.patch(url, json=change, headers=writer)
        assert response.status_code == 200 and response.json()["status"] == "pending_review", response.text
        assert datetime.fromisoformat(response.json()["publish_at"]) == when
        again = app_client.post(f"{url}/approve", headers=editor)  # no time given: the one it is meant for
        assert again.json()["status"] == "scheduled" and datetime.fromisoformat(again.json()["publish_at"]) == when
    with session_scope() as session:
        assert session.scalars(select(OutboxEvent.type)).all() == []


def test_a_restore_racing_the_beat_never_publishes_the_unreviewed_text(app_client: TestClient) -> None:
    """Whichever commits first, what goes out is what the editor approved: the beat publishes
    the approved text and the writer's restore is refused, or the restore wins and nothing goes
    out. Run in threads at the article's time; each transaction locks the row it changes."""
    when = planned_time()
    location, first = approved_and_scheduled(app_client, when)
    writer = login(app_client, "phongvien")
    published: list[int] = []
    start = threading.Barrier(2)

    def beat() -> None:
        start.wait()
        with session_scope() as session:
            published.extend(publish_due_articles(session, when + timedelta(minutes=1), get_settings()))

    thread = threading.Thread(target=beat)
    thread.start()
    start.wait()
    restored = post(app_client, f"{location}/revisions/{first}/restore", writer)
    thread.join()
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        events = session.scalars(select(OutboxEvent.type)).all()
    if published:
        # Read-only for a writer once published (403), or, on SQLite when the restore had
        # read the article before the beat's commit, refused as changed meanwhile (409).
        assert restored.status_code in (403, 409)
        assert (article.status, article.title, events) == ("published", APPROVED["title"], ["article.published"])
    else:
        assert restored.status_code == 303
        assert (article.status, article.title, events) == ("pending_review", FIRST["title"], [])
