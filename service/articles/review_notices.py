"""What the review steps tell staff (issue 22 §1, decision 0042): submitting tells the first
stage's holders, approving a stage before the last tells the next stage's, returning and the
last approval tell the writer (the article's creator). Each is one announcement per event
(keyed by the review row, which one submission or one stage owns), planned in the step's
transaction through ``service.staff.notify``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from config.settings import Settings
from service.db.models import Article, ArticleReview
from service.staff import announcements as kinds
from service.staff.notify import display_name, tell, user_of
from service.staff.workflow import Stage, holders_of


def review_requested(
    session: Session, article: Article, review: ArticleReview, stage: Stage, now: datetime, settings: Settings,
    approved_by: str | None = None,
) -> None:  # fmt: skip
    """Tell ``stage``'s holders that ``article`` waits for them (``review``: the new review row)."""
    payload = {
        "article_id": article.id,
        "title": article.title,
        "stage": stage.name,
        "stage_is_msgid": stage.default,
        "writer": display_name(session, review.requested_by),
        "approved_by": display_name(session, approved_by) if approved_by else None,
        "path": f"/console/articles/{article.id}",
    }
    tell(
        session, kind=kinds.REVIEW_REQUESTED, source_key=f"staff:review:{review.id}:requested",
        users=holders_of(session, stage), payload=payload, now=now, settings=settings,
        actor_label=approved_by or review.requested_by,
    )  # fmt: skip


def review_returned(session: Session, article: Article, review: ArticleReview, now: datetime,
                    settings: Settings) -> None:  # fmt: skip
    """Tell the writer their article came back, with the comment."""
    writer = user_of(session, article.created_by)
    payload = {
        "article_id": article.id,
        "title": article.title,
        "by": display_name(session, review.decided_by),
        "comment": review.comment or "",
        "path": f"/console/articles/{article.id}/edit",
    }
    tell(
        session, kind=kinds.REVIEW_RETURNED, source_key=f"staff:review:{review.id}:returned",
        users=[writer] if writer else [], payload=payload, now=now, settings=settings, actor_label=review.decided_by,
    )  # fmt: skip


def article_approved(session: Session, article: Article, review: ArticleReview, now: datetime,
                     settings: Settings) -> None:  # fmt: skip
    """Tell the writer their article passed the last stage: published, or scheduled for its time."""
    writer = user_of(session, article.created_by)
    payload = {
        "article_id": article.id,
        "title": article.title,
        "by": display_name(session, review.decided_by),
        "publish_at": article.publish_at.isoformat() if article.publish_at and article.status == "scheduled" else None,
        "path": f"/console/articles/{article.id}",
    }
    tell(
        session, kind=kinds.ARTICLE_APPROVED, source_key=f"staff:review:{review.id}:approved",
        users=[writer] if writer else [], payload=payload, now=now, settings=settings, actor_label=review.decided_by,
    )  # fmt: skip
