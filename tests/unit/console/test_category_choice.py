"""Categories are chosen, not typed (issue 20 §4): the editor lists the existing ones as boxes
to tick; naming a new one is a field of its own that BANTIN_NEW_CATEGORIES_BY may keep for
editors or admins, in the console and the API alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.articles.categories import create_listed_category
from service.db.engine import session_scope
from service.db.models import Article, Category
from tests.unit.api.conftest import make_token
from tests.unit.console.conftest import ORIGIN, login, make_user

ARTICLE = {"title": "Hội nghị Trung ương", "body_html": "<p>Nội dung.</p>"}


def categories() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(Category.name)))


def article_categories() -> list[str]:
    with session_scope() as session:
        article = session.scalars(select(Article)).one()
        return sorted(c.name for c in article.categories)


@pytest.fixture
def desk() -> None:
    with session_scope() as session:
        for name in ("Thời sự", "Xây dựng Đảng"):
            create_listed_category(session, name, datetime.now(UTC))


def post(client: TestClient, token: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post("/console/articles/new", data={"csrf_token": token, **data}, headers={"Origin": ORIGIN})


def test_the_editor_offers_the_existing_categories_as_boxes_and_ticked_ones_are_saved(
    app_client: TestClient, desk: None
) -> None:
    make_user("phongvien", "writer")
    token = login(app_client, "phongvien")
    page = app_client.get("/console/articles/new").text
    assert '<input type="checkbox" name="category" value="Thời sự">' in page
    assert '<input type="checkbox" name="category" value="Xây dựng Đảng">' in page
    assert 'id="category-search"' in page and 'for="categories">Chuyên mục mới' in page
    saved = post(app_client, token, {**ARTICLE, "category": ["Thời sự", "Xây dựng Đảng"], "action": "draft"})
    assert saved.status_code == 303
    assert article_categories() == ["Thời sự", "Xây dựng Đảng"]
    edited = app_client.get(saved.headers["location"]).text
    assert '<input type="checkbox" name="category" value="Thời sự" checked>' in edited


def test_where_only_admins_create_categories_a_writer_chooses_and_a_new_name_is_refused(
    app_client: TestClient, desk: None, settings_override: pytest.MonkeyPatch
) -> None:
    settings_override.setenv("BANTIN_NEW_CATEGORIES_BY", "admins")
    make_user("phongvien", "writer")
    token = login(app_client, "phongvien")
    page = app_client.get("/console/articles/new").text
    assert 'name="categories"' not in page and "Hãy nhờ quản trị viên tạo" in page
    refused = post(app_client, token, {**ARTICLE, "category": "Thời sự", "categories": "Đảng", "action": "draft"})
    assert refused.status_code == 422
    assert "Chưa có chuyên mục “Đảng” và bạn không được tạo chuyên mục mới" in refused.text
    assert 'value="Đảng"' in refused.text and 'value="Thời sự" checked' in refused.text  # what was chosen stays
    assert categories() == ["Thời sự", "Xây dựng Đảng"]
    with session_scope() as session:
        assert session.scalars(select(Article)).first() is None
    # The same name as an existing one, typed in any case, is that category: nothing to create.
    same = post(app_client, token, {**ARTICLE, "categories": "thời SỰ", "action": "draft"})
    assert same.status_code == 303 and article_categories() == ["Thời sự"]

    api = app_client.post(
        "/api/v1/articles",
        json={**ARTICLE, "categories": ["Đảng"], "status": "draft"},
        headers={"Authorization": f"Bearer {make_token('write')}"},
    )
    assert api.status_code == 422 and "creating one is not allowed for your role" in api.text
    assert categories() == ["Thời sự", "Xây dựng Đảng"]

    make_user("quantri", "admin")
    admin = login(app_client, "quantri")
    created = post(app_client, admin, {**ARTICLE, "title": "Tin Đảng", "categories": "Đảng", "action": "draft"})
    assert created.status_code == 303 and categories() == ["Thời sự", "Xây dựng Đảng", "Đảng"]


def test_a_read_only_article_lists_only_its_own_categories_without_a_scrolling_region(
    app_client: TestClient, desk: None
) -> None:
    """Disabled boxes cannot take focus, so a read-only list must not scroll (axe's
    scrollable-region-focusable, WCAG 2.1.1): it shows the article's own categories in full."""
    make_user("phongvien", "writer")
    token = login(app_client, "phongvien")
    saved = post(app_client, token, {**ARTICLE, "category": ["Thời sự"], "action": "draft"})
    editable = app_client.get(saved.headers["location"]).text
    assert '<div class="category-list" id="category-list">' in editable
    assert 'value="Xây dựng Đảng">' in editable
    with session_scope() as session:
        session.scalars(select(Article)).one().status = "published"
    read_only = app_client.get(saved.headers["location"]).text
    assert "chỉ xem được" in read_only
    assert '<div class="category-list chosen-only" id="category-list">' in read_only
    assert 'value="Thời sự" checked>' in read_only and 'value="Xây dựng Đảng"' not in read_only
