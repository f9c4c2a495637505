"""Diacritic-insensitive search over articles, and who created or changed one."""

from __future__ import annotations

import pytest

from config.settings import get_settings
from service.articles.editorial import Actor
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, list_articles, update_article, withdraw_article
from service.db.engine import session_scope
from service.db.models import Article
from service.db.types import utcnow
from tests.actors import OPERATOR, staff


def _create(title: str, summary: str | None = None, author: str | None = None, actor: Actor = OPERATOR) -> int:
    data = ArticleCreate(title=title, body_html="<p>x</p>", summary=summary, author=author, status="draft")
    with session_scope() as session:
        return create_article(session, data, utcnow(), get_settings(), actor).article.id


def _titles(search: str) -> list[str]:
    with session_scope() as session:
        rows, total = list_articles(session, search=search)
        assert total == len(rows)
        return sorted(a.title for a in rows)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("dang", ["Kỷ niệm 97 năm Ngày thành lập Đảng"]),
        ("ĐẢNG", ["Kỷ niệm 97 năm Ngày thành lập Đảng"]),
        ("nam", ["Kỷ niệm 97 năm Ngày thành lập Đảng", "Việt Nam đón năm mới"]),
        ("năm mới", ["Việt Nam đón năm mới"]),
        ("moi viet", ["Việt Nam đón năm mới"]),  # every word, in any order
        ("tuyen giao", ["Hội nghị cán bộ"]),  # the author matches
        ("100%", []),  # LIKE wildcards are literal
        ("thanh_lap", []),
    ],
)
def test_search_ignores_case_and_diacritics_and_d_stroke(query: str, found: list[str]) -> None:
    _create("Kỷ niệm 97 năm Ngày thành lập Đảng")
    _create("Việt Nam đón năm mới")
    _create("Hội nghị cán bộ", author="Ban Tuyên giáo")
    _create("Giải bóng đá 100 đội")
    assert _titles(query) == found


def test_the_search_column_follows_a_title_change() -> None:
    article_id = _create("Tin cũ")
    with session_scope() as session:
        update_article(session, article_id, ArticleUpdate(title="Đại hội Đảng bộ"), utcnow(), get_settings(), OPERATOR)
    assert _titles("dai hoi dang") == ["Đại hội Đảng bộ"]
    assert _titles("tin cu") == []


def test_creator_and_last_editor_are_recorded() -> None:
    article_id = _create("Bài A", actor=staff("user:trang"))
    with session_scope() as session:
        update_article(
            session, article_id, ArticleUpdate(summary="Tóm tắt"), utcnow(), get_settings(), staff("token:7")
        )
    with session_scope() as session:
        article = session.get(Article, article_id)
        assert article is not None
        assert (article.created_by, article.updated_by) == ("user:trang", "token:7")
        withdraw_article(session, article_id, utcnow(), get_settings(), staff("user:admin"))
        assert article.updated_by == "user:admin"
