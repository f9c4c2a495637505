"""Editorial review: a writer submits a draft, an editor publishes it or returns it with a comment.

Transitions are conditional UPDATEs (``… WHERE status = 'in_review'``) made while the
article row is locked, and a partial unique index allows one review in progress per
article, so two editors deciding at once cannot both win. Who may submit, approve and
return is the editorial policy's (``service.articles.editorial``, decision 0026): nobody
approves their own submission, and while an article is in review only an editor who did
not submit it may correct it, so what is published is what an editor read.

The time an article is meant for (``publish_at`` of a draft, e.g. an anniversary's
morning) travels with it through review: approving without naming a time schedules it
for that time, never "now" (decision 0026).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.alt_text import require_alt_text
from service.articles.audit import article_state, audit_article
from service.articles.derived import counted, keep_in_step
from service.articles.editorial import Actor, ChangeKind, Rule, SelfApproval, WrongState, require_allowed
from service.articles.service import Change, get_article
from service.db.models import Article, ArticleReview, ArticleStatus, EventType, ReviewStatus
from service.errors import InvalidField
from service.events.outbox import record_article_event
from service.text import clean_text

MAX_COMMENT = 5000
__all__ = [
    "SelfApproval",
    "approve",
    "latest_review",
    "return_for_changes",
    "returned_to",
    "review_queue",
    "submit_for_review",
    "work_of",
]


def submit_for_review(session: Session, article_id: int, actor: Actor, now: datetime) -> Change:
    """Draft → pending_review, with a new review in progress; its intended ``publish_at`` is kept.

    WrongState unless it is a draft; NotPermitted for a writer and someone else's article."""
    article = get_article(session, article_id, for_update=True)
    require_allowed(session, actor, article, {ChangeKind.SUBMIT})
    before, audited = counted(article), article_state(article)
    article.status = ArticleStatus.PENDING_REVIEW.value
    article.updated_at = now
    article.updated_by = actor.label
    session.add(
        ArticleReview(
            article_id=article_id, status=ReviewStatus.IN_REVIEW.value, requested_by=actor.label, requested_at=now
        )
    )
    keep_in_step(session, article, before)
    audit_article(session, "article.submit", article, audited, now)
    return Change(article)


def _decide(
    session: Session, article: Article, actor: Actor, now: datetime, decision: ReviewStatus, comment: str | None
) -> ArticleReview:
    """Close the review in progress with ``decision``; the policy has allowed it (row locked)."""
    review = session.scalars(
        select(ArticleReview).where(
            ArticleReview.article_id == article.id, ArticleReview.status == ReviewStatus.IN_REVIEW
        )
    ).one_or_none()
    if review is None:
        raise WrongState(Rule.NOT_IN_REVIEW)
    result = session.execute(
        update(ArticleReview)
        .where(ArticleReview.id == review.id, ArticleReview.status == ReviewStatus.IN_REVIEW)
        .values(status=decision.value, decided_by=actor.label, decided_at=now, comment=comment)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise WrongState(Rule.NOT_IN_REVIEW)  # decided by someone else meanwhile
    session.refresh(review)
    return review


def approve(
    session: Session,
    article_id: int,
    actor: Actor,
    now: datetime,
    settings: Settings,
    publish_at: datetime | None = None,
    *,
    publish_now: bool = False,
) -> Change:
    """Approve the article in review: publish it or schedule it.

    When: ``publish_now`` publishes now; ``publish_at`` schedules it then (a time already
    past publishes now, as the API always has); neither keeps the time the article is meant
    for (its ``publish_at``, e.g. a calendar draft's anniversary morning) and publishes now
    only when it has none. Raises InvalidField("publish_at") for both at once,
    InvalidField("image_alt"/"body_html") for an image without its words (decision 0034), WrongState
    (PLANNED_TIME_PASSED) when neither is given and the intended time has passed (a person
    must choose again), NotPermitted, WrongState or SelfApproval from the policy.
    """
    article = get_article(session, article_id, for_update=True)
    require_allowed(session, actor, article, {ChangeKind.APPROVE})
    if publish_now and publish_at is not None:
        raise InvalidField("publish_at", "schedule_and_now")
    when = None if publish_now else publish_at or article.publish_at
    if not publish_now and publish_at is None and when is not None and when <= now:
        raise WrongState(Rule.PLANNED_TIME_PASSED, when=f"{when.astimezone(settings.zone):%d/%m/%Y %H:%M}")
    require_alt_text(article.body_html, article.image_url, article.image_alt)
    _decide(session, article, actor, now, ReviewStatus.APPROVED, None)
    scheduled = when is not None and when > now
    before, audited = counted(article), article_state(article)
    article.status = (ArticleStatus.SCHEDULED if scheduled else ArticleStatus.PUBLISHED).value
    article.publish_at = when if scheduled else None
    article.published_at = None if scheduled else now
    article.updated_at = now
    article.updated_by = actor.label
    keep_in_step(session, article, before)
    audit_article(session, "article.approve", article, audited, now)
    if not scheduled:
        record_article_event(session, EventType.ARTICLE_PUBLISHED, article, settings)
    return Change(article)


def return_for_changes(session: Session, article_id: int, actor: Actor, comment: str, now: datetime) -> Change:
    """Back to draft with a comment the writer sees (its intended ``publish_at`` kept);
    InvalidField("comment") when it is empty; the policy's refusals as for approve."""
    article = get_article(session, article_id, for_update=True)
    require_allowed(session, actor, article, {ChangeKind.RETURN})
    comment = clean_text(comment)
    if not comment:
        raise InvalidField("comment", "comment_needed")
    if len(comment) > MAX_COMMENT:
        raise InvalidField("comment", "too_long", length=len(comment), limit=MAX_COMMENT)
    _decide(session, article, actor, now, ReviewStatus.CHANGES_REQUESTED, comment)
    before, audited = counted(article), article_state(article)
    article.status = ArticleStatus.DRAFT.value
    article.updated_at = now
    article.updated_by = actor.label
    keep_in_step(session, article, before)
    audit_article(session, "article.return", article, audited, now, {"comment": comment})
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


def returned_to(session: Session, created_by: str, limit: int = 20) -> list[tuple[Article, ArticleReview]]:
    """The drafts of ``created_by`` (an actor label, "user:<name>") whose latest review was a
    return, each with that review (its comment, who returned it and when), latest return first.

    Resubmitting one starts a newer review, so it leaves this list by itself.
    """
    latest = (
        select(func.max(ArticleReview.id))
        .where(ArticleReview.article_id == Article.id)
        .correlate(Article)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Article, ArticleReview)
        .join(ArticleReview, ArticleReview.article_id == Article.id)
        .where(
            Article.created_by == created_by,
            Article.status == ArticleStatus.DRAFT,
            ArticleReview.id == latest,
            ArticleReview.status == ReviewStatus.CHANGES_REQUESTED,
        )
        .order_by(ArticleReview.decided_at.desc(), Article.id.desc())
        .limit(limit)
    ).all()
    return [(article, review) for article, review in rows]


def work_of(session: Session, created_by: str, limit: int = 10) -> list[Article]:
    """The articles ``created_by`` made, last changed first: what a writer's start page lists."""
    return list(
        session.scalars(
            select(Article)
            .where(Article.created_by == created_by)
            .order_by(Article.updated_at.desc(), Article.id.desc())
            .limit(limit)
        )
    )
