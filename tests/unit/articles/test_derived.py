"""Counts per status and category, the published_at copy on category links and the site's
generation stay in step with every article write (service/articles/derived.py)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config.settings import get_settings
from service.articles.derived import count_articles, recount, site_generation_of
from service.articles.review import approve, return_for_changes, submit_for_review
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import (
    create_article,
    list_articles,
    publish_due_articles,
    update_article,
    withdraw_article,
)
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus, Category, article_categories, article_counts
from tests.actors import OPERATOR, staff

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def new(**fields: object) -> ArticleCreate:
    return ArticleCreate.model_validate({"title": "Hội nghị Thành ủy", "body_html": "<p>Nội dung</p>", **fields})


def stored_counts() -> dict[tuple[str, int], int]:
    with session_scope() as session:
        rows = session.execute(select(article_counts)).all()
    return {(r.status, r.category_id): r.articles for r in rows if r.articles}


def counted_from_articles() -> dict[tuple[str, int], int]:
    """What the counts must be, counted the slow way from the articles themselves."""
    with session_scope() as session:
        found: Counter[tuple[str, int]] = Counter()
        for article in session.scalars(select(Article)):
            found[(article.status, 0)] += 1
            for category in article.categories:
                found[(article.status, category.id)] += 1
    return dict(found)


def copies() -> dict[tuple[int, int], datetime | None]:
    with session_scope() as session:
        rows = session.execute(select(article_categories)).all()
    return {(r.article_id, r.category_id): r.published_at for r in rows}


def copies_from_articles() -> dict[tuple[int, int], datetime | None]:
    with session_scope() as session:
        return {
            (article.id, category.id): article.published_at if article.status == ArticleStatus.PUBLISHED else None
            for article in session.scalars(select(Article))
            for category in article.categories
        }


def generation() -> int:
    with session_scope() as session:
        return site_generation_of(session)


def assert_in_step() -> None:
    assert stored_counts() == counted_from_articles()
    assert copies() == copies_from_articles()


def test_every_lifecycle_step_keeps_counts_copies_and_generation_in_step() -> None:
    settings = get_settings()
    seen = [generation()]

    def step_done() -> None:
        assert_in_step()
        seen.append(generation())
        assert seen[-1] > seen[-2], "every article write moves the site's generation"

    with session_scope() as session:
        published = create_article(session, new(categories=["Thời sự", "Kinh tế"]), NOW, settings, OPERATOR).article.id
    step_done()
    with session_scope() as session:
        draft = create_article(session, new(status="draft", categories=["Kinh tế"]), NOW, settings, OPERATOR).article.id
    step_done()
    with session_scope() as session:
        scheduled = create_article(
            session,
            new(publish_at=(NOW + timedelta(hours=1)).isoformat(), categories=["Đối ngoại"]),
            NOW,
            settings,
            OPERATOR,
        ).article.id
    step_done()
    with session_scope() as session:  # categories change on a published article
        update_article(session, published, ArticleUpdate(categories=["Đối ngoại"]), NOW, settings, OPERATOR)
    step_done()
    with session_scope() as session:  # a draft is published by an update
        update_article(
            session, draft, ArticleUpdate(status="published"), NOW + timedelta(minutes=5), settings, OPERATOR
        )
    step_done()
    with session_scope() as session:  # beat publishes the scheduled one
        assert publish_due_articles(session, NOW + timedelta(hours=2), settings) == [scheduled]
    step_done()
    with session_scope() as session:  # back to a draft: no longer listed in its categories
        update_article(session, scheduled, ArticleUpdate(status="draft"), NOW, settings, OPERATOR)
    step_done()
    with session_scope() as session:  # DELETE /api/v1/articles/{id} withdraws
        withdraw_article(session, published, NOW, settings, OPERATOR)
    step_done()
    with session_scope() as session:
        submit_for_review(session, scheduled, staff("user:writer"), NOW, get_settings())
    step_done()
    with session_scope() as session:
        return_for_changes(session, scheduled, staff("user:editor"), "Thêm nguồn", NOW, get_settings())
    step_done()
    with session_scope() as session:
        submit_for_review(session, scheduled, staff("user:writer"), NOW, get_settings())
    step_done()
    with session_scope() as session:
        approve(session, scheduled, staff("user:editor"), NOW + timedelta(hours=3), settings)
    step_done()

    assert stored_counts()[("published", 0)] == 2
    assert stored_counts()[("withdrawn", 0)] == 1
    with session_scope() as session:
        assert count_articles(session) == 3
        assert count_articles(session, status="published", category_slug="kinh-te") == 1
        assert count_articles(session, category_slug="doi-ngoai") == 2
        assert count_articles(session, category_slug="khong-co") == 0
        published_at = session.scalar(select(Article.published_at).where(Article.id == scheduled))
    assert published_at is not None
    assert {at for (article_id, _), at in copies().items() if article_id == scheduled} == {published_at}
    assert {at for (article_id, _), at in copies().items() if article_id == published} == {None}


def test_a_rolled_back_write_changes_no_count_and_no_generation() -> None:
    with session_scope() as session:
        create_article(session, new(categories=["Y tế"]), NOW, get_settings(), OPERATOR)
    before_counts, before_generation = stored_counts(), generation()
    with pytest.raises(RuntimeError), session_scope() as session:
        create_article(session, new(categories=["Y tế"]), NOW, get_settings(), OPERATOR)
        raise RuntimeError("crash before commit")
    assert stored_counts() == before_counts
    assert generation() == before_generation


def test_list_total_is_exact_for_every_filter_and_counts_a_search_directly() -> None:
    settings = get_settings()
    with session_scope() as session:
        for n in range(5):
            create_article(
                session, new(title=f"Tin số {n}", categories=["Giáo dục"] if n % 2 else []), NOW, settings, OPERATOR
            )
        create_article(session, new(status="draft", categories=["Giáo dục"]), NOW, settings, OPERATOR)
    with session_scope() as session:
        assert list_articles(session, limit=2)[1] == 6
        assert list_articles(session, status=ArticleStatus.PUBLISHED, limit=2)[1] == 5
        assert list_articles(session, category_slug="giao-duc")[1] == 3
        assert list_articles(session, status=ArticleStatus.DRAFT, category_slug="giao-duc")[1] == 1
        assert list_articles(session, category_slug="khong-co")[1] == 0
        assert list_articles(session, search="tin so 3")[1] == 1


def test_recount_rebuilds_rows_written_around_the_domain_code() -> None:
    with session_scope() as session:
        create_article(session, new(categories=["Du lịch"]), NOW, get_settings(), OPERATOR)
    with session_scope() as session:  # a bulk import that knows nothing of the derived rows
        session.execute(article_counts.delete())
        category = session.scalars(select(Category)).one()
        session.add(
            Article(
                guid="urn:uuid:00000000-0000-0000-0000-000000000001",
                slug="nhap",
                title="Nhập",
                body_html="<p>x</p>",
                status="published",
                published_at=NOW,
                created_at=NOW,
                updated_at=NOW,
                categories=[category],
            )
        )
    with session_scope() as session:
        recount(session)
    assert_in_step()
    assert stored_counts()[("published", 0)] == 2


def test_bantin_db_recount_rebuilds_the_counts() -> None:
    from typer.testing import CliRunner

    from service.cli.main import app

    with session_scope() as session:
        create_article(session, new(categories=["Thể thao"]), NOW, get_settings(), OPERATOR)
    with session_scope() as session:
        session.execute(article_counts.delete())
    result = CliRunner().invoke(app, ["db", "recount"])
    assert result.exit_code == 0 and "article counts rebuilt" in result.stdout
    assert_in_step()
