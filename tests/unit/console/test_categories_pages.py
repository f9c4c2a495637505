"""The console's menu page: admins choose the categories the public menu shows and their
order; wrong places are refused by the field with nothing saved; others get a 403."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import html

from config.settings import get_settings
from service.articles.derived import site_generation_of
from service.articles.editorial import OPERATOR
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.db.engine import session_scope
from service.db.types import utcnow
from service.site.navigation import menu_choices, read_navigation
from tests.unit.console.conftest import ORIGIN, login, make_user
from tests.unit.console.conftest import post_form as post


@pytest.fixture
def categories() -> dict[str, int]:
    """Three categories with a published article each, one only a draft uses: slug → id."""
    with session_scope() as session:
        for n, names in enumerate((["Thời sự"], ["Kinh tế"], ["Xây dựng Đảng"])):
            data = ArticleCreate(title=f"Bài {n}", body_html="<p>x</p>", categories=names)
            create_article(session, data, utcnow(), get_settings(), OPERATOR)
        draft = ArticleCreate(title="Nháp", body_html="<p>x</p>", categories=["Nháp riêng"], status="draft")
        create_article(session, draft, utcnow(), get_settings(), OPERATOR)
    with session_scope() as session:
        return {c.slug: c.id for c in menu_choices(session)}


def parsed(response: httpx.Response) -> Any:
    """The page's document; ``Any`` because XPath results are typed by the expression."""
    return html.fromstring(response.content)


def menu_now() -> list[str]:
    with session_scope() as session:
        return [link.slug for link in read_navigation(session).menu]


@pytest.mark.parametrize("role", ["editor", "writer"])
def test_only_admins_see_or_change_the_menu(app_client: TestClient, role: str, categories: dict[str, int]) -> None:
    make_user("nguoidung", role)
    token = login(app_client, "nguoidung")
    assert app_client.get("/console/categories").status_code == 403
    assert post(app_client, "/console/categories", token, {f"menu-{categories['kinh-te']}": "on"}).status_code == 403
    assert "/console/categories" not in app_client.get("/console/").text
    assert menu_now() == []


def test_an_admin_puts_categories_in_the_menu_in_order(
    admin: tuple[TestClient, str], categories: dict[str, int]
) -> None:
    client, token = admin
    page = client.get("/console/categories")
    assert page.status_code == 200
    rows = parsed(page).xpath("//tbody/tr")
    assert len(rows) == 4
    assert "chưa có, nên chưa hiện" in page.text  # the draft-only category is listed, marked
    with session_scope() as session:
        generation = site_generation_of(session)
    ids = categories
    saved = post(
        client,
        "/console/categories",
        token,
        {
            f"menu-{ids['xay-dung-dang']}": "on", f"place-{ids['xay-dung-dang']}": "1",
            f"menu-{ids['thoi-su']}": "on", f"place-{ids['thoi-su']}": "2",
            f"menu-{ids['kinh-te']}": "on",  # no place: after the others
            f"place-{ids['nhap-rieng']}": "3",  # a place without the box: not in the menu
        },
    )  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == "/console/categories"
    assert menu_now() == ["xay-dung-dang", "thoi-su", "kinh-te"]
    with session_scope() as session:
        assert site_generation_of(session) > generation  # every public page renders the new menu
    after = client.get("/console/categories")
    assert "Đã lưu menu chuyên mục" in after.text
    assert parsed(after).xpath("//tbody/tr[1]//label")[0].text == "Xây dựng Đảng"
    # Unticking takes a category out.
    post(client, "/console/categories", token, {f"menu-{ids['thoi-su']}": "on", f"place-{ids['thoi-su']}": "1"})
    assert menu_now() == ["thoi-su"]


@pytest.mark.parametrize("typed", ["0", "100", "abc", "-1", "1.5", "١"])
def test_a_wrong_place_is_refused_by_its_row_and_nothing_is_saved(
    admin: tuple[TestClient, str], categories: dict[str, int], typed: str
) -> None:
    client, token = admin
    ids = categories
    post(client, "/console/categories", token, {f"menu-{ids['kinh-te']}": "on", f"place-{ids['kinh-te']}": "1"})
    refused = post(
        client,
        "/console/categories",
        token,
        {f"menu-{ids['thoi-su']}": "on", f"place-{ids['thoi-su']}": typed, f"menu-{ids['kinh-te']}": "on"},
    )
    assert refused.status_code == 422
    page = parsed(refused)
    field = page.xpath(f"//input[@id='place-{ids['thoi-su']}']")[0]
    assert field.get("value") == typed and field.get("aria-invalid") == "true"
    assert page.xpath(f"//p[@id='error-{ids['thoi-su']}']")[0].text == "Thứ tự là một số từ 1 đến 99."
    assert page.xpath(f"//input[@id='menu-{ids['kinh-te']}']/@checked")  # what was typed stays
    assert menu_now() == ["kinh-te"]


def test_saving_the_menu_needs_the_csrf_token(admin: tuple[TestClient, str], categories: dict[str, int]) -> None:
    client, _ = admin
    refused = client.post(
        "/console/categories", data={f"menu-{categories['kinh-te']}": "on"}, headers={"Origin": ORIGIN}
    )
    assert refused.status_code == 403
    assert menu_now() == []
