"""Editorial review over the API: ``/api/v1/articles/{id}/submit|approve|return``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends
from pydantic import BaseModel, ConfigDict, Field

from service.api.auth import Caller, require_scope
from service.api.schemas import ArticleOut
from service.articles.review import approve, return_for_changes, submit_for_review
from service.articles.schemas import PublishAt
from service.auth.tokens import Scope
from service.db.engine import session_scope
from service.db.types import utcnow
from workers.relay import relay_events

router = APIRouter(prefix="/api/v1/articles", tags=["review"])
Publisher = Annotated[Caller, Depends(require_scope(Scope.PUBLISH))]
Writer = Annotated[Caller, Depends(require_scope(Scope.WRITE))]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publish_at: PublishAt = Field(None, description="schedule instead of publishing now (ISO 8601)")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(description="what the writer should change")


@router.post("/{article_id}/submit", response_model=ArticleOut)
def submit(article_id: int, caller: Writer) -> ArticleOut:
    """Draft → `pending_review`. 409 unless the article is a draft."""
    with session_scope() as session:
        return ArticleOut.of(submit_for_review(session, article_id, caller.actor, utcnow()).article)


@router.post("/{article_id}/approve", response_model=ArticleOut)
def approve_(
    article_id: int, caller: Publisher, background: BackgroundTasks, payload: ApproveIn | None = None
) -> ArticleOut:
    """Publish a reviewed article now, or schedule it. 409 when it is not in review or the caller submitted it."""
    with session_scope() as session:
        change = approve(session, article_id, caller.actor, utcnow(), payload.publish_at if payload else None)
        body = ArticleOut.of(change.article)
    background.add_task(relay_events, change.event_ids)
    return body


@router.post("/{article_id}/return", response_model=ArticleOut)
def return_(article_id: int, payload: ReturnIn, caller: Publisher) -> ArticleOut:
    """Back to draft with a comment for the writer (422 when the comment is empty)."""
    with session_scope() as session:
        return ArticleOut.of(return_for_changes(session, article_id, caller.actor, payload.comment, utcnow()).article)
