"""Staff endpoints for articles: ``/api/v1/articles``."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from service.api.auth import Caller, require_scope
from service.api.deps import AppSettings
from service.api.errors import CONFLICT, WRITER_REFUSED
from service.api.schemas import ArticleOut, ArticlePage
from service.articles.listing import list_article_page
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, get_article, update_article, withdraw_article
from service.auth.tokens import Scope
from service.db.engine import read_scope, session_scope
from service.db.models import ArticleStatus, IdempotentRequest
from service.db.types import utcnow
from service.errors import InvalidField
from service.inputs import Limit, Offset, RowId, Slug

router = APIRouter(prefix="/api/v1/articles", tags=["articles"])
Publisher = Annotated[Caller, Depends(require_scope(Scope.PUBLISH))]
# Writers' tokens read, write drafts and change their drafts; publishing needs Publisher.
Writer = Annotated[Caller, Depends(require_scope(Scope.WRITE))]
MAX_IDEMPOTENCY_KEY = 255
# Articles carry their whole body: a page of them is kept smaller than other lists.
ARTICLE_PAGE_MAX = 200


def _check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise InvalidField("Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters")
    return key


def _replay(stored: IdempotentRequest, fingerprint: str) -> JSONResponse:
    if stored.request_fingerprint != fingerprint:
        raise InvalidField("Idempotency-Key", "was already used with a different request body")
    headers = {"Idempotent-Replayed": "true", "Location": f"/api/v1/articles/{stored.response_body['id']}"}
    return JSONResponse(stored.response_body, status_code=stored.status_code, headers=headers)


def _stored_request(token_id: int, key: str) -> IdempotentRequest | None:
    with session_scope() as session:
        return session.scalars(
            select(IdempotentRequest).where(IdempotentRequest.token_id == token_id, IdempotentRequest.key == key)
        ).one_or_none()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ArticleOut, responses=WRITER_REFUSED)
def create(
    payload: ArticleCreate,
    caller: Writer,
    response: Response,
    settings: AppSettings,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> ArticleOut | JSONResponse:
    """Create an article: published now unless `status` is `draft` or `publish_at` is in the future.

    A `write` token only makes drafts (403 otherwise): the editorial policy (decision 0026)."""
    key = _check_idempotency_key(idempotency_key)
    fingerprint = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
    if key is not None and (stored := _stored_request(caller.token_id, key)) is not None:
        return _replay(stored, fingerprint)
    try:
        with caller.refusals(), session_scope() as session:
            change = create_article(session, payload, utcnow(), settings, caller.actor)
            body = ArticleOut.of(change.article)
            if key is not None:
                session.add(
                    IdempotentRequest(
                        token_id=caller.token_id,
                        key=key,
                        request_fingerprint=fingerprint,
                        status_code=201,
                        response_body=body.model_dump(mode="json"),
                        created_at=utcnow(),
                    )
                )
                session.flush()
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        stored = _stored_request(caller.token_id, key) if key is not None else None
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    response.headers["Location"] = f"/api/v1/articles/{body.id}"
    return body


@router.get("", response_model=ArticlePage)
async def list_(
    _: Writer,
    status_: Annotated[ArticleStatus | None, Query(alias="status")] = None,
    category: Annotated[Slug | None, Query(description="category slug")] = None,
    limit: Annotated[Limit, Query(le=ARTICLE_PAGE_MAX)] = 50,
    offset: Offset = 0,
) -> ArticlePage:
    """A page of articles, newest first, filtered by status and category slug; ``total`` counts every match."""
    # Async, with one trip to the thread pool for the blocking read: FastAPI runs a sync
    # endpoint in the pool and then validates its result in the pool again, two trips
    # (ARCHITECTURE.md decision 23).
    return await run_in_threadpool(_article_page, status_, category, limit, offset)


def _article_page(status_: ArticleStatus | None, category: str | None, limit: int, offset: int) -> ArticlePage:
    # One statement, so an autocommit read sees one snapshot without BEGIN and COMMIT.
    with read_scope() as session:
        page, total = list_article_page(session, status=status_, category_slug=category, limit=limit, offset=offset)
    return ArticlePage.of_listed(page, total, limit, offset, get_settings().base_url)


@router.get("/{article_id}", response_model=ArticleOut)
def read(article_id: RowId, _: Writer) -> ArticleOut:
    """One article; 404 when the id is unknown."""
    with read_scope() as session:
        return ArticleOut.of(get_article(session, article_id))


@router.patch("/{article_id}", response_model=ArticleOut, responses={**CONFLICT, **WRITER_REFUSED})
def patch(article_id: RowId, payload: ArticleUpdate, caller: Writer, settings: AppSettings) -> ArticleOut:
    """Change the fields present; the GUID never changes. `null` clears an optional field.

    The editorial policy decides (decision 0026): a token with the `write` scope only
    changes the articles it created, never publishes or schedules, and cannot change a
    published one (403 saying which rule refused); its change to a scheduled article sends
    it back to review (`pending_review`, its `publish_at` kept). 409 for a withdrawn article
    or one in review (an editor who did not submit it may correct it in place)."""
    with caller.refusals(), session_scope() as session:
        return ArticleOut.of(update_article(session, article_id, payload, utcnow(), settings, caller.actor).article)


@router.delete("/{article_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITER_REFUSED)
def withdraw(article_id: RowId, caller: Writer, settings: AppSettings) -> Response:
    """Withdraw: the article leaves every feed. Withdrawing again is a no-op.

    A token with the `write` scope only gets 403: withdrawing needs `publish`."""
    with caller.refusals(), session_scope() as session:
        withdraw_article(session, article_id, utcnow(), settings, caller.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
