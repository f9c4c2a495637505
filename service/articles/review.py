"""Editorial review: a writer submits a draft, an editor publishes it or returns it with a comment.

Transitions are conditional UPDATEs (``… WHERE status = 'in_review'``) made while the
article row is locked, and a partial unique index allows one review in progress per
article, so two editors deciding at once cannot both win. Nobody approves their own
submission. While an article is in review its content does not change
(``update_article`` refuses), so what is published is exactly what was reviewed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.derived import counted, keep_in_step
from service.articles.service import Change, get_article
from service.db.models import Article, ArticleReview, ArticleStatus, EventType, ReviewStatus
from service.errors import Conflict, InvalidField
from service.events.outbox import record_article_event
from service.text import clean_text

MAX_COMMENT = 5000


class SelfApproval(Conflict):
    """The approver is the one who submitted the article (409 in the API)."""


def submit_for_review(session: Session, article_id: int, actor: str | None, now: datetime) -> Change:
    """Draft → pending_review, with a new review in progress. Conflict unless it is a draft."""
    article = get_article(session, article_id, for_update=True)
    if article.status != ArticleStatus.DRAFT:
        raise Conflict(f"article {article_id} is {article.status}; only a draft can be submitted for review")
    before = counted(article)
    article.status = ArticleStatus.PENDING_REVIEW.value
    article.publish_at = None
    article.updated_at = now
    article.updated_by = actor
    session.add(
        ArticleReview(article_id=article_id, status=ReviewStatus.IN_REVIEW.value, requested_by=actor, requested_at=now)
    )
    keep_in_step(session, article, before)
    return Change(article)


def _decide(
    session: Session, article: Article, actor: str | None, now: datetime, decision: ReviewStatus, comment: str | None
) -> ArticleReview:
    review = session.scalars(
        select(ArticleReview).where(
            ArticleReview.article_id == article.id, ArticleReview.status == ReviewStatus.IN_REVIEW
        )
    ).one_or_none()
    if article.status != ArticleStatus.PENDING_REVIEW or review is None:
        raise Conflict(f"article {article.id} is not waiting for review")
    if decision == ReviewStatus.APPROVED and actor is not None and review.requested_by == actor:
        raise SelfApproval("you submitted this article; another editor must approve it")
    result = session.execute(
        update(ArticleReview)
        .where(ArticleReview.id == review.id, ArticleReview.status == ReviewStatus.IN_REVIEW)
        .values(status=decision.value, decided_by=actor, decided_at=now, comment=comment)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"article {article.id} was decided by someone else meanwhile")
    session.refresh(review)
    return review


def approve(
    session: Session,
    article_id: int,
    actor: str | None,
    now: datetime,
    settings: Settings,
    publish_at: datetime | None = None,
) -> Change:
    """Publish the reviewed article now, or schedule it when ``publish_at`` is in the future."""
    article = get_article(session, article_id, for_update=True)
    _decide(session, article, actor, now, ReviewStatus.APPROVED, None)
    scheduled = publish_at is not None and publish_at > now
    before = counted(article)
    article.status = (ArticleStatus.SCHEDULED if scheduled else ArticleStatus.PUBLISHED).value
    article.publish_at = publish_at if scheduled else None
    article.published_at = None if scheduled else now
    article.updated_at = now
    article.updated_by = actor
    keep_in_step(session, article, before)
    if not scheduled:
        record_article_event(session, EventType.ARTICLE_PUBLISHED, article, settings)
    return Change(article)


def return_for_changes(session: Session, article_id: int, actor: str | None, comment: str, now: datetime) -> Change:
    """Back to draft with a comment the writer sees; InvalidField("comment") when it is empty."""
    article = get_article(session, article_id, for_update=True)
    comment = clean_text(comment)
    if not comment:
        raise InvalidField("comment", "must say what to change")
    if len(comment) > MAX_COMMENT:
        raise InvalidField("comment", f"is {len(comment)} characters long; the limit is {MAX_COMMENT}")
    _decide(session, article, actor, now, ReviewStatus.CHANGES_REQUESTED, comment)
    before = counted(article)
    article.status = ArticleStatus.DRAFT.value
    article.updated_at = now
    article.updated_by = actor
    keep_in_step(session, article, before)
    return Change(article)


def latest_review(session: Session, article_id: int) -> ArticleReview | None:
    """The article's most recent review request, whatever its status; None if it was never submitted."""
    return session.scalars(
        select(ArticleReview)
        .where(ArticleReview.article_id == article_id)
        .order_by(ArticleReview.requested_at.desc(), ArticleReview.id.desc())
        .limit(1)
    ).one_or_none()


def review_queue(session: Session, limit: int = 50) -> list[Article]:
    """Articles waiting for an editor, oldest submission first."""
    return list(
        session.scalars(
            select(Article)
            .join(ArticleReview, ArticleReview.article_id == Article.id)
            .where(ArticleReview.status == ReviewStatus.IN_REVIEW, Article.status == ArticleStatus.PENDING_REVIEW)
            .order_by(ArticleReview.requested_at, Article.id)
            .limit(limit)
        )
    )
