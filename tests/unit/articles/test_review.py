"""Editorial review: submit, return with a comment, approve (never one's own), one review at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from config.settings import get_settings
from service.articles.editorial import Actor, Rule, WrongState
from service.articles.review import (
    SelfApproval,
    approve,
    latest_review,
    return_for_changes,
    review_queue,
    submit_for_review,
)
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, update_article
from service.db.engine import session_scope
from service.db.models import Article, ArticleReview, ArticleRevision, OutboxEvent, ReviewStatus
from service.db.types import utcnow
from service.errors import Conflict, InvalidField
from tests.actors import staff

WRITER = staff("user:writer", "writer")


def draft(actor: Actor = WRITER) -> int:
    data = ArticleCreate(title="Bài của phóng viên", body_html="<p>x</p>", status="draft")
    with session_scope() as session:
        return create_article(session, data, utcnow(), get_settings(), actor).article.id


def submitted(actor: Actor = WRITER) -> int:
    article_id = draft(actor)
    with session_scope() as session:
        submit_for_review(session, article_id, actor, utcnow(), get_settings())
    return article_id


def events() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)))


def test_submit_then_return_then_resubmit_then_approve() -> None:
    article_id = submitted()
    with session_scope() as session:
        assert [a.id for a in review_queue(session)] == [article_id]
    with session_scope() as session:
        change = return_for_changes(
            session, article_id, staff("user:editor"), "  Sửa lại tít cho ngắn hơn.  ", utcnow(), get_settings()
        )
        assert change.article.status == "draft"
    with session_scope() as session:
        review = latest_review(session, article_id)
        assert review is not None
        assert (review.status, review.comment, review.decided_by) == (
            "changes_requested",
            "Sửa lại tít cho ngắn hơn.",
            "user:editor",
        )
        assert review_queue(session) == []
        update_article(
            session,
            article_id,
            ArticleUpdate(title="Tít ngắn"),
            utcnow(),
            get_settings(),
            staff("user:writer", "writer"),
        )
        submit_for_review(session, article_id, staff("user:writer", "writer"), utcnow(), get_settings())
    assert events() == []  # nothing announced before approval
    with session_scope() as session:
        change = approve(session, article_id, staff("user:editor"), utcnow(), get_settings())
        assert change.article.status == "published" and change.article.published_at is not None
    assert events() == ["article.published"]
    with session_scope() as session:
        statuses = session.scalars(select(ArticleReview.status).order_by(ArticleReview.id)).all()
        assert statuses == ["changes_requested", "approved"]


def test_approve_with_a_future_time_schedules() -> None:
    article_id = submitted()
    when = utcnow() + timedelta(days=1)
    with session_scope() as session:
        change = approve(session, article_id, staff("user:editor"), utcnow(), get_settings(), when)
        assert change.article.status == "scheduled" and change.article.publish_at == when
    assert events() == []  # scheduled: nothing announced until its time


def test_nobody_approves_their_own_submission() -> None:
    article_id = submitted(staff("user:editor"))
    with session_scope() as session, pytest.raises(SelfApproval):
        approve(session, article_id, staff("user:editor"), utcnow(), get_settings())
    with session_scope() as session:
        review = latest_review(session, article_id)
        assert review is not None and review.status == ReviewStatus.IN_REVIEW


def test_an_article_in_review_cannot_be_edited_or_submitted_again() -> None:
    article_id = submitted()
    with session_scope() as session, pytest.raises(Conflict, match="waiting for review"):
        update_article(
            session,
            article_id,
            ArticleUpdate(title="Lén sửa"),
            utcnow(),
            get_settings(),
            staff("user:writer", "writer"),
        )
    with session_scope() as session, pytest.raises(Conflict, match="only a draft"):
        submit_for_review(session, article_id, staff("user:writer", "writer"), utcnow(), get_settings())


def test_deciding_twice_is_a_conflict_and_changes_nothing() -> None:
    article_id = submitted()
    with session_scope() as session:
        approve(session, article_id, staff("user:editor"), utcnow(), get_settings())
    with session_scope() as session, pytest.raises(Conflict, match="not waiting for review"):
        return_for_changes(session, article_id, staff("user:other"), "muộn rồi", utcnow(), get_settings())
    assert events() == ["article.published"]


def test_a_return_needs_a_comment() -> None:
    article_id = submitted()
    with session_scope() as session, pytest.raises(InvalidField) as raised:
        return_for_changes(session, article_id, staff("user:editor"), "   ", utcnow(), get_settings())
    assert raised.value.field == "comment"


def test_the_database_allows_one_review_in_progress_per_article() -> None:
    article_id = submitted()
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(
            ArticleReview(article_id=article_id, status="in_review", requested_by="user:x", requested_at=utcnow())
        )
        session.flush()


# ---- the time an article is meant for (issue 20.1, decision 0026) ----------------------------


def meant_for(when: datetime) -> int:
    """The writer's draft carrying the time it is meant for (as a calendar draft does), submitted."""
    article_id = draft()
    with session_scope() as session:
        update_article(session, article_id, ArticleUpdate(publish_at=when), utcnow(), get_settings(), WRITER)
        submit_for_review(session, article_id, WRITER, utcnow(), get_settings())
        assert session.get(Article, article_id).publish_at == when  # type: ignore[union-attr]
    return article_id


def test_approving_without_a_time_schedules_for_the_time_it_is_meant_for() -> None:
    when = utcnow() + timedelta(days=60)
    article_id = meant_for(when)
    with session_scope() as session:
        change = approve(session, article_id, staff("user:editor"), utcnow(), get_settings())
        assert (change.article.status, change.article.publish_at, change.article.published_at) == (
            "scheduled",
            when,
            None,
        )
    assert events() == []  # nothing announced two months early


def test_publish_now_publishes_whatever_time_it_was_meant_for_and_a_given_time_wins() -> None:
    when = utcnow() + timedelta(days=60)
    first, second = meant_for(when), meant_for(when)
    with session_scope() as session:
        now = approve(session, first, staff("user:editor"), utcnow(), get_settings(), publish_now=True)
        assert (now.article.status, now.article.publish_at) == ("published", None)
        other = when + timedelta(days=1)
        moved = approve(session, second, staff("user:editor"), utcnow(), get_settings(), other)
        assert (moved.article.status, moved.article.publish_at) == ("scheduled", other)


def test_a_time_and_publish_now_together_are_refused() -> None:
    article_id = meant_for(utcnow() + timedelta(days=1))
    with session_scope() as session, pytest.raises(InvalidField) as raised:
        approve(session, article_id, staff("user:editor"), utcnow(), get_settings(), utcnow(), publish_now=True)
    assert raised.value.field == "publish_at"


def test_a_time_meant_for_that_has_passed_needs_a_choice() -> None:
    when = utcnow() + timedelta(hours=1)
    article_id = meant_for(when)
    with session_scope() as session, pytest.raises(WrongState) as raised:
        approve(session, article_id, staff("user:editor"), when + timedelta(minutes=1), get_settings())
    assert raised.value.rule == Rule.PLANNED_TIME_PASSED and "has passed" in str(raised.value)
    with session_scope() as session:
        review = latest_review(session, article_id)
        assert review is not None and review.status == ReviewStatus.IN_REVIEW  # undecided


def test_another_editor_corrects_a_submission_in_place_and_it_stays_in_review() -> None:
    article_id = submitted()
    with session_scope() as session:
        update_article(
            session, article_id, ArticleUpdate(title="Tít đã sửa lỗi"), utcnow(), get_settings(), staff("user:editor")
        )
    with session_scope() as session:
        article = session.get(Article, article_id)
        assert article is not None and (article.status, article.title) == ("pending_review", "Tít đã sửa lỗi")
        newest = session.scalars(select(ArticleRevision).order_by(ArticleRevision.id.desc())).first()
        assert newest is not None and newest.author == "user:editor"  # the revision records who
        assert [a.id for a in review_queue(session)] == [article_id]


def test_an_editor_cannot_correct_their_own_submission() -> None:
    article_id = submitted(staff("user:editor"))
    with session_scope() as session, pytest.raises(WrongState, match="waiting for review"):
        update_article(
            session, article_id, ArticleUpdate(title="Lén sửa"), utcnow(), get_settings(), staff("user:editor")
        )
