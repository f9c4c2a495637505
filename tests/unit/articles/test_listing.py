"""The staff list read as plain values (service/articles/listing.py) shows what the ORM list shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.settings import get_settings
from service.api.schemas import ArticleOut, ArticlePage
from service.articles.listing import list_article_page
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article, list_articles
from service.db.engine import session_scope
from service.db.models import ArticleStatus
from tests.actors import staff

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


@pytest.fixture
def newsroom() -> None:
    """Five articles: several categories (given out of order), none, drafts, equal times."""
    given: list[dict[str, object]] = [
        {"title": "Ba chuyên mục", "categories": ["Xã hội", "Thời sự", "Kinh tế"]},
        {"title": "Không chuyên mục", "categories": []},
        {"title": "Bản nháp", "categories": ["Thời sự"], "status": "draft"},
        {"title": "Cùng giờ một", "categories": ["Kinh tế"], "publish_at": "2027-02-01T00:00:00Z"},
        {"title": "Cùng giờ hai", "categories": ["Kinh tế", "Thời sự"], "publish_at": "2027-02-01T00:00:00Z"},
    ]
    with session_scope() as session:
        for number, fields in enumerate(given):
            data = ArticleCreate.model_validate({"body_html": "<p>Nội dung đầy đủ</p>", **fields})
            create_article(session, data, NOW + timedelta(minutes=number), get_settings(), staff("token:1"))


@pytest.mark.usefixtures("newsroom")
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": ArticleStatus.PUBLISHED},
        {"status": ArticleStatus.DRAFT},
        {"category_slug": "thoi-su"},
        {"category_slug": "kinh-te", "status": ArticleStatus.PUBLISHED},
        {"category_slug": "khong-co"},
        {"limit": 2, "offset": 1},
        {"limit": 2, "offset": 4},
        {"limit": 2, "offset": 9},
        {"category_slug": "thoi-su", "offset": 5},
    ],
)
def test_a_page_is_what_the_orm_list_shows(filters: dict[str, object]) -> None:
    with session_scope() as session:
        rows, expected_total = list_articles(session, **filters)  # type: ignore[arg-type]
        expected = [ArticleOut.of(article).model_dump() for article in rows]
    with session_scope() as session:
        page, total = list_article_page(session, **filters)  # type: ignore[arg-type]
        got = [item.model_dump() for item in ArticlePage.of_listed(page, total, 1, 0, get_settings().base_url).items]
    assert (got, total) == (expected, expected_total)


@pytest.mark.usefixtures("newsroom")
def test_categories_come_sorted_by_slug_and_an_article_without_any_has_none() -> None:
    with session_scope() as session:
        page, total = list_article_page(session)
    by_title = {listed.values.title: [c.slug for c in listed.categories] for listed in page}
    assert total == 5
    assert by_title["Ba chuyên mục"] == ["kinh-te", "thoi-su", "xa-hoi"]
    assert by_title["Không chuyên mục"] == []
    assert by_title["Cùng giờ hai"] == ["kinh-te", "thoi-su"]
