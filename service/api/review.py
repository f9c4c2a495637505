"""Editorial review over the API: ``/api/v1/articles/{id}/submit|approve|return``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from service.api.auth import Caller, require_scope
from service.api.deps import AppSettings
from service.api.errors import CONFLICT, WRITER_REFUSED
from service.api.idempotency import Once
from service.api.routing import api_router
from service.api.schemas import ArticleOut
from service.articles.review import approve, return_for_changes, submit_for_review
from service.auth.tokens import Scope
from service.db.types import utcnow
from service.inputs import Instant, RowId

router = api_router(prefix="/api/v1/articles", tags=["review"])
Publisher = Annotated[Caller, Depends(require_scope(Scope.PUBLISH))]
Writer = Annotated[Caller, Depends(require_scope(Scope.WRITE))]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publish_at: Instant | None = Field(
        None, description="schedule at this time (ISO 8601); without it, the article's own `publish_at` is kept"
    )
    publish_now: bool = Field(False, description="publish now, even if the article is meant for a later time")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the domain (422 naming `comment` when empty), after the article is found.
    comment: str = Field("", description="what the writer should change")


@router.post("/{article_id}/submit", response_model=ArticleOut, responses={**CONFLICT, **WRITER_REFUSED})
def submit(article_id: RowId, caller: Writer, settings: AppSettings, response: Response, once: Once) -> ArticleOut:
    """Draft → `pending_review`, its `publish_at` kept as the time it is meant for.
    409 unless the article is a draft; 403 for a writer's token and someone else's."""
    with caller.refusals(), once.unit_of_work(caller) as session:
        body = ArticleOut.of(submit_for_review(session, article_id, caller.actor, utcnow(), settings).article)
        return once.answer(session, response, body, status.HTTP_200_OK)


@router.post("/{article_id}/approve", response_model=ArticleOut, responses={**CONFLICT, **WRITER_REFUSED})
def approve_(
    article_id: RowId,
    caller: Publisher,
    settings: AppSettings,
    response: Response,
    once: Once,
    payload: ApproveIn | None = None,
) -> ArticleOut:
    """Approve an article in review: scheduled at `publish_at` if given, else at the article's own
    `publish_at` (the time it is meant for, e.g. a calendar draft's anniversary morning), else
    published now; `publish_now: true` publishes now whatever it was meant for (decision 0026).

    409 when it is not in review, when the caller submitted it, or when neither is given and
    the time it was meant for has passed; 422 for both at once."""
    payload = payload or ApproveIn()
    with caller.refusals(), once.unit_of_work(caller) as session:
        change = approve(
            session, article_id, caller.actor, utcnow(), settings, payload.publish_at, publish_now=payload.publish_now
        )
        return once.answer(session, response, ArticleOut.of(change.article), status.HTTP_200_OK)


@router.post("/{article_id}/return", response_model=ArticleOut, responses={**CONFLICT, **WRITER_REFUSED})
def return_(
    article_id: RowId, payload: ReturnIn, caller: Publisher, settings: AppSettings, response: Response, once: Once
) -> ArticleOut:
    """Back to draft with a comment for the writer (422 when the comment is empty)."""
    with caller.refusals(), once.unit_of_work(caller) as session:
        change = return_for_changes(session, article_id, caller.actor, payload.comment, utcnow(), settings)
        body = ArticleOut.of(change.article)
        return once.answer(session, response, body, status.HTTP_200_OK)
