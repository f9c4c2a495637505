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
from service.articles.review_notices import article_approved, review_requested, review_returned
from service.articles.service import Change, get_article
from service.db.models import Article, ArticleReview, ArticleStatus, EventType, ReviewStatus
from service.errors import InvalidField
from service.events.outbox import record_article_event
from service.staff.workflow import stage_at
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


def submit_for_review(session: Session, article_id: int, actor: Actor, now: datetime, settings: Settings) -> Change:
    """Draft → pending_review, with a new review in progress at the workflow's first stage
    (whose holders are told); its intended ``publish_at`` is kept.

    WrongState unless it is a draft; NotPermitted for a writer and someone else's article."""
    article = get_article(session, article_id, for_update=True)
    require_allowed(session, actor, article, {ChangeKind.SUBMIT})
    before, audited = counted(article), article_state(article)
    article.status = ArticleStatus.PENDING_REVIEW.value
    article.updated_at = now
    article.updated_by = actor.label
    review = ArticleReview(
        article_id=article_id, status=ReviewStatus.IN_REVIEW.value, requested_by=actor.label, requested_at=now, stage=0
    )
    session.add(review)
    session.flush()
    keep_in_step(session, article, before)
    audit_article(session, "article.submit", article, audited, now)
    review_requested(session, article, review, stage_at(session, 0)[0], now, settings)
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
    """Approve the article in review at its stage: at a stage before the last, it moves on
    to the next one (whose holders are told; a ``publish_at`` given becomes its intended
    time, ``publish_now`` waits for the last stage); at the last, publish it or schedule it
    (and the writer is told). Decision 0042.

    When, at the last stage: ``publish_now`` publishes now; ``publish_at`` schedules it then (a time already
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
    position = _stage_of(session, article.id)
    _, last = stage_at(session, position)
    if not last:
        return _to_next_stage(session, article, actor, now, settings, position, publish_at)
    when = None if publish_now else publish_at or article.publish_at
    if not publish_now and publish_at is None and when is not None and when <= now:
        raise WrongState(Rule.PLANNED_TIME_PASSED, when=f"{when.astimezone(settings.zone):%d/%m/%Y %H:%M}")
    require_alt_text(article.body_html, article.image_url, article.image_alt)
    review = _decide(session, article, actor, now, ReviewStatus.APPROVED, None)
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
    article_approved(session, article, review, now, settings)
    return Change(article)


def _stage_of(session: Session, article_id: int) -> int:
    """The stage the article's review in progress is at (the policy has seen one)."""
    position = session.scalars(
        select(ArticleReview.stage).where(
            ArticleReview.article_id == article_id, ArticleReview.status == ReviewStatus.IN_REVIEW
        )
    ).one_or_none()
    if position is None:
        raise WrongState(Rule.NOT_IN_REVIEW)
    return position


def _to_next_stage(
    session: Session, article: Article, actor: Actor, now: datetime, settings: Settings, position: int,
    publish_at: datetime | None,
) -> Change:  # fmt: skip
    """Close this stage's review as approved and open one at the next stage, requested by the
    same submitter (so nobody approves their own article at any later stage either)."""
    closed = _decide(session, article, actor, now, ReviewStatus.APPROVED, None)
    before, audited = counted(article), article_state(article)
    if publish_at is not None:
        article.publish_at = publish_at
    article.updated_at = now
    article.updated_by = actor.label
    following = ArticleReview(
        article_id=article.id,
        status=ReviewStatus.IN_REVIEW.value,
        requested_by=closed.requested_by,
        requested_at=now,
        stage=position + 1,
    )
    session.add(following)
    session.flush()
    keep_in_step(session, article, before)
    next_stage, _ = stage_at(session, position + 1)
    audit_article(session, "article.approve_stage", article, audited, now, {"stage": next_stage.name})
    review_requested(session, article, following, next_stage, now, settings, approved_by=actor.label)
    return Change(article)


def return_for_changes(
    session: Session, article_id: int, actor: Actor, comment: str, now: datetime, settings: Settings
) -> Change:
    """Back to draft with a comment the writer sees (its intended ``publish_at`` kept), and the
    writer is told; at any stage. InvalidField("comment") when it is empty; the policy's
    refusals as for approve."""
    article = get_article(session, article_id, for_update=True)
    require_allowed(session, actor, article, {ChangeKind.RETURN})
    comment = clean_text(comment)
    if not comment:
        raise InvalidField("comment", "comment_needed")
    if len(comment) > MAX_COMMENT:
        raise InvalidField("comment", "too_long", length=len(comment), limit=MAX_COMMENT)
    review = _decide(session, article, actor, now, ReviewStatus.CHANGES_REQUESTED, comment)
    before, audited = counted(article), article_state(article)
    article.status = ArticleStatus.DRAFT.value
    article.updated_at = now
    article.updated_by = actor.label
    keep_in_step(session, article, before)
    audit_article(session, "article.return", article, audited, now, {"comment": comment})
    review_returned(session, article, review, now, settings)
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
