"""Staff endpoints for articles: ``/api/v1/articles``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from service.api.auth import Caller, require_scope
from service.api.deps import AppSettings
from service.api.errors import CONFLICT, WRITER_REFUSED
from service.api.idempotency import Once
from service.api.routing import api_router
from service.api.schemas import ArticleOut, ArticlePage, CorrectionOut
from service.articles.corrections import CorrectionIn, publish_correction, stored_corrections
from service.articles.listing import list_article_page
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import MAX_REASON_CHARS, create_article, get_article, update_article, withdraw_article
from service.auth.tokens import Scope
from service.db.engine import read_scope, session_scope
from service.db.models import ArticleStatus
from service.db.types import utcnow
from service.inputs import Limit, Offset, RowId, Slug

router = api_router(prefix="/api/v1/articles", tags=["articles"])
Publisher = Annotated[Caller, Depends(require_scope(Scope.PUBLISH))]
# Writers' tokens read, write drafts and change their drafts; publishing needs Publisher.
Writer = Annotated[Caller, Depends(require_scope(Scope.WRITE))]
# Why an article was withdrawn, as the query `?reason=` carries it (cleaned by the domain).
Reason = Annotated[str | None, Query(max_length=MAX_REASON_CHARS, description="shown on the 410 page")]
# Articles carry their whole body: a page of them is kept smaller than other lists.
ARTICLE_PAGE_MAX = 200


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ArticleOut, responses=WRITER_REFUSED)
def create(payload: ArticleCreate, caller: Writer, response: Response, settings: AppSettings, once: Once) -> ArticleOut:
    """Create an article: published now unless `status` is `draft` or `publish_at` is in the future.

    A `write` token only makes drafts (403 otherwise): the editorial policy (decision 0026)."""
    with caller.refusals(), once.unit_of_work(caller) as session:
        body = ArticleOut.of(create_article(session, payload, utcnow(), settings, caller.actor).article)
        return once.answer(session, response, body, status.HTTP_201_CREATED, location=f"/api/v1/articles/{body.id}")


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
def withdraw(article_id: RowId, caller: Writer, settings: AppSettings, reason: Reason = None) -> Response:
    """Withdraw: the article leaves every feed. Withdrawing again is a no-op.

    `reason` (optional, at most 1,000 characters) is shown on the article's 410 page.
    A token with the `write` scope only gets 403: withdrawing needs `publish`."""
    with caller.refusals(), session_scope() as session:
        withdraw_article(session, article_id, utcnow(), settings, caller.actor, reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{article_id}/corrections",
    status_code=status.HTTP_201_CREATED,
    response_model=CorrectionOut,
    responses={**CONFLICT, **WRITER_REFUSED},
)
def correct(
    article_id: RowId, payload: CorrectionIn, caller: Publisher, response: Response, settings: AppSettings, once: Once
) -> CorrectionOut:
    """Publish a correction of a published article ("cải chính", Luật Báo chí 2016, Art. 42):
    `wrong`, `right`, `apology`. Shown atop the article, on `/cai-chinh` and in the feeds, and
    sent to everyone whose channel received the article's publication (decision 0043).

    403 for a token without `publish`; 404 for an unknown article; 409 when it is not
    published; 422 naming an empty, missing or over-long `wrong`/`right`."""
    with caller.refusals(), once.unit_of_work(caller) as session:
        row = publish_correction(session, article_id, payload, utcnow(), settings, caller.actor)
        body = CorrectionOut.of(row, get_article(session, article_id))
        return once.answer(
            session, response, body, status.HTTP_201_CREATED, location=f"/api/v1/articles/{article_id}/corrections"
        )


@router.get("/{article_id}/corrections", response_model=list[CorrectionOut])
def list_corrections(article_id: RowId, _: Writer) -> list[CorrectionOut]:
    """An article's corrections, newest first; 404 when the id is unknown."""
    with read_scope() as session:
        article = get_article(session, article_id)
        return [CorrectionOut.of(row, article) for row in stored_corrections(session, article_id)]
