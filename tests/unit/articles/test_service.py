from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config.settings import get_settings
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import (
    create_article,
    list_articles,
    publish_due_articles,
    update_article,
    withdraw_article,
)
from service.db.after_commit import pending
from service.db.engine import session_scope
from service.db.models import ArticleStatus, OutboxEvent
from service.errors import Conflict, NotFound
from tests.actors import OPERATOR

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def new(**fields: object) -> ArticleCreate:
    return ArticleCreate.model_validate({"title": "Kỷ niệm 97 năm", "body_html": "<p>Nội dung</p>", **fields})


def events() -> list[tuple[str, list[str]]]:
    with session_scope() as session:
        rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        return [(e.type, e.payload["scopes"]) for e in rows]


def test_publish_now_writes_the_article_and_its_event_together() -> None:
    with session_scope() as session:
        change = create_article(session, new(categories=["Xây dựng Đảng"]), NOW, get_settings(), OPERATOR)
        assert change.article.status == ArticleStatus.PUBLISHED
        assert change.article.published_at == NOW
        assert change.article.guid.startswith("urn:uuid:")
        # One event, sent to a worker once this unit of work commits.
        assert [name for name, _ in pending(session).tasks] == ["events.dispatch"]
    assert events() == [("article.published", ["site", "category:xay-dung-dang"])]


def test_failed_transaction_leaves_neither_article_nor_event() -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        create_article(session, new(), NOW, get_settings(), OPERATOR)
        raise RuntimeError("crash before commit")
    with session_scope() as session:
        assert list_articles(session)[1] == 0
    assert events() == []


def test_draft_and_future_articles_emit_nothing_until_published() -> None:
    with session_scope() as session:
        draft = create_article(session, new(status="draft"), NOW, get_settings(), OPERATOR).article
        scheduled = create_article(
            session, new(publish_at=(NOW + timedelta(hours=1)).isoformat()), NOW, get_settings(), OPERATOR
        ).article
        assert draft.status == ArticleStatus.DRAFT
        assert scheduled.status == ArticleStatus.SCHEDULED
        assert scheduled.published_at is None
    assert events() == []


def test_past_publish_at_back_dates_the_article() -> None:
    past = NOW - timedelta(days=3)
    with session_scope() as session:
        article = create_article(session, new(publish_at=past.isoformat()), NOW, get_settings(), OPERATOR).article
        assert article.status == ArticleStatus.PUBLISHED
        assert article.published_at == past


def test_scheduled_article_is_published_exactly_once() -> None:
    with session_scope() as session:
        article_id = create_article(
            session, new(publish_at=(NOW + timedelta(minutes=5)).isoformat()), NOW, get_settings(), OPERATOR
        ).article.id
    with session_scope() as session:
        assert publish_due_articles(session, NOW + timedelta(minutes=4), get_settings()) == []
    with session_scope() as session:
        first = publish_due_articles(session, NOW + timedelta(minutes=5), get_settings())
    with session_scope() as session:
        second = publish_due_articles(session, NOW + timedelta(minutes=6), get_settings())
    assert len(first) == 1 and second == []
    assert [e[0] for e in events()] == ["article.published"]
    with session_scope() as session:
        rows, _ = list_articles(session, status=ArticleStatus.PUBLISHED)
        assert [a.id for a in rows] == [article_id]
        assert rows[0].published_at == NOW + timedelta(minutes=5)


def test_update_keeps_guid_follows_title_and_re_renders_old_categories() -> None:
    with session_scope() as session:
        article = create_article(session, new(categories=["Thời sự"]), NOW, get_settings(), OPERATOR).article
        article_id, guid = article.id, article.guid
    later = NOW + timedelta(hours=1)
    with session_scope() as session:
        change = update_article(
            session,
            article_id,
            ArticleUpdate(title="Tiêu đề mới", categories=["Xây dựng Đảng"]),
            later,
            get_settings(),
            OPERATOR,
        )
        assert change.article.guid == guid
        assert change.article.slug == "tieu-de-moi"
        assert change.article.updated_at == later
        assert change.article.published_at == NOW
    assert events()[-1] == ("article.updated", ["site", "category:xay-dung-dang", "category:thoi-su"])


def test_draft_to_published_emits_published_and_back_to_draft_emits_withdrawn() -> None:
    with session_scope() as session:
        article_id = create_article(session, new(status="draft"), NOW, get_settings(), OPERATOR).article.id
    with session_scope() as session:
        article = update_article(
            session, article_id, ArticleUpdate(status="published"), NOW, get_settings(), OPERATOR
        ).article
        assert article.published_at == NOW
    with session_scope() as session:
        article = update_article(
            session, article_id, ArticleUpdate(status="draft"), NOW, get_settings(), OPERATOR
        ).article
        assert article.published_at is None
    assert [e[0] for e in events()] == ["article.published", "article.withdrawn"]


def test_withdraw_is_idempotent_and_blocks_further_edits() -> None:
    with session_scope() as session:
        article_id = create_article(session, new(), NOW, get_settings(), OPERATOR).article.id
    for _ in range(2):
        with session_scope() as session:
            withdraw_article(session, article_id, NOW, get_settings(), OPERATOR)
    assert [e[0] for e in events()] == ["article.published", "article.withdrawn"]
    with pytest.raises(Conflict), session_scope() as session:
        update_article(session, article_id, ArticleUpdate(title="x"), NOW, get_settings(), OPERATOR)


def test_missing_article_is_not_found() -> None:
    with pytest.raises(NotFound, match="article 999 does not exist"), session_scope() as session:
        withdraw_article(session, 999, NOW, get_settings(), OPERATOR)


def test_list_filters_by_category_slug_and_status() -> None:
    with session_scope() as session:
        create_article(session, new(categories=["Thời sự"]), NOW, get_settings(), OPERATOR)
        create_article(session, new(categories=["Xây dựng Đảng"]), NOW, get_settings(), OPERATOR)
        create_article(session, new(categories=["Xây dựng Đảng"], status="draft"), NOW, get_settings(), OPERATOR)
    with session_scope() as session:
        assert list_articles(session, category_slug="xay-dung-dang")[1] == 2
        assert list_articles(session, category_slug="xay-dung-dang", status=ArticleStatus.DRAFT)[1] == 1
        assert list_articles(session, category_slug="khong-co")[1] == 0
