"""Editorial review over the API: ``/api/v1/articles/{id}/submit|approve|return``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from service.api.auth import Caller, require_scope
from service.api.deps import AppSettings
from service.api.errors import CONFLICT, WRITER_REFUSED
from service.api.schemas import ArticleOut
from service.articles.review import approve, return_for_changes, submit_for_review
from service.articles.service import get_article
from service.auth.tokens import Scope
from service.db.engine import session_scope
from service.db.types import utcnow
from service.inputs import Instant, RowId

router = APIRouter(prefix="/api/v1/articles", tags=["review"])
Publisher = Annotated[Caller, Depends(require_scope(Scope.PUBLISH))]
Writer = Annotated[Caller, Depends(require_scope(Scope.WRITE))]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publish_at: Instant | None = Field(None, description="schedule instead of publishing now (ISO 8601)")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the domain (422 naming `comment` when empty), after the article is found.
    comment: str = Field("", description="what the writer should change")


@router.post("/{article_id}/submit", response_model=ArticleOut, responses={**CONFLICT, **WRITER_REFUSED})
def submit(article_id: RowId, caller: Writer) -> ArticleOut:
    """Draft → `pending_review`. 409 unless the article is a draft; 403 for a writer's token and someone else's."""
    with session_scope() as session:
        if not caller.may_publish:
            article = get_article(session, article_id, for_update=True)
            if article.created_by != caller.actor:
                caller.require_own_draft(article)
        return ArticleOut.of(submit_for_review(session, article_id, caller.actor, utcnow()).article)


@router.post("/{article_id}/approve", response_model=ArticleOut, responses={**CONFLICT, **WRITER_REFUSED})
def approve_(
    article_id: RowId, caller: Publisher, settings: AppSettings, payload: ApproveIn | None = None
) -> ArticleOut:
    """Publish a reviewed article now, or schedule it. 409 when it is not in review or the caller submitted it."""
    with session_scope() as session:
        when = payload.publish_at if payload else None
        return ArticleOut.of(approve(session, article_id, caller.actor, utcnow(), settings, when).article)


@router.post("/{article_id}/return", response_model=ArticleOut, responses={**CONFLICT, **WRITER_REFUSED})
def return_(article_id: RowId, payload: ReturnIn, caller: Publisher) -> ArticleOut:
    """Back to draft with a comment for the writer (422 when the comment is empty)."""
    with session_scope() as session:
        return ArticleOut.of(return_for_changes(session, article_id, caller.actor, payload.comment, utcnow()).article)
