"""Console pages. Thin: parse the form, call the domain function the API calls, render or redirect."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import Query, Response
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from config.settings import get_settings
from service import clock
from service.articles.review import (
    SelfApproval,
    approve,
    latest_review,
    return_for_changes,
    review_queue,
    submit_for_review,
)
from service.articles.revisions import (
    diff_revisions,
    get_revision,
    latest_revision_id,
    list_revisions,
    previous_revision,
    restore_update,
)
from service.articles.service import create_article, get_article, list_articles, update_article
from service.articles.service import withdraw_article as withdraw_in_domain
from service.articles.urls import article_url
from service.auth.sessions import SignedIn, push_flash
from service.calendar.service import upcoming
from service.console.common import console_router, html_page, see_other
from service.console.forms import ArticleForm, filter_error, parse_schedule
from service.console.security import CheckedForm, CurrentUser, Forbidden, can_publish, can_review
from service.console.templating import STATIC, local_time
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus, Category
from service.db.types import utcnow
from service.deliveries.queries import delivery_health
from service.errors import Conflict, InvalidField, NotFound
from service.i18n import N_, gettext
from service.inputs import RowId

PAGE_SIZE = 25
UPCOMING_DAYS = 60


router = console_router()


# ---- dashboard -------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(user: CurrentUser) -> Response:
    """The start page: the review queue, latest and scheduled articles, delivery health of the last
    24 hours (linked to the log for admins), anniversaries of the next UPCOMING_DAYS days."""
    settings = get_settings()
    today = clock.now(settings).astimezone(settings.zone).date()
    with session_scope() as session:
        latest, total = list_articles(session, limit=10)
        scheduled = list(
            session.scalars(
                select(Article)
                .where(Article.status == ArticleStatus.SCHEDULED)
                .order_by(Article.publish_at, Article.id)
                .limit(20)
            )
        )
        anniversaries = [o for o, _ in upcoming(session, today, UPCOMING_DAYS)]
        return html_page(
            "dashboard.html",
            user,
            health=delivery_health(session, utcnow()),
            queue=review_queue(session, limit=20),
            latest=latest,
            total=total,
            scheduled=scheduled,
            anniversaries=anniversaries,
            today=today,
            days=UPCOMING_DAYS,
        )


# ---- articles --------------------------------------------------------------------------------


@router.get("/articles", response_class=HTMLResponse)
def articles(
    user: CurrentUser,
    q: str = "",
    status: str = "",
    category: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The article list, PAGE_SIZE a page, filtered by search text, status and category slug.

    An unknown status or category is a 422: the form again with the message by that filter, no list.
    """
    with session_scope() as session:
        categories = list(session.scalars(select(Category).order_by(Category.name)))
        errors = {
            name: error
            for name, error in (
                ("status", filter_error(status, {s.value for s in ArticleStatus})),
                ("category", filter_error(category, {c.slug for c in categories})),
            )
            if error
        }
        chosen_status = ArticleStatus(status) if status and "status" not in errors else None
        rows: list[Article] = []
        total = 0
        if not errors:
            rows, total = list_articles(
                session,
                status=chosen_status,
                category_slug=category or None,
                search=q or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        return html_page(
            "articles.html",
            user,
            status_code=422 if errors else 200,
            errors=errors,
            rows=rows,
            total=total,
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            q=q,
            status=status,
            category=category,
            categories=categories,
            statuses=list(ArticleStatus),
        )


def _editor(user: SignedIn, form: ArticleForm, article: Article | None, status_code: int = 200) -> HTMLResponse:
    review, revisions = None, []
    if article is not None:
        with session_scope() as session:
            review = latest_review(session, article.id)
            revisions = list_revisions(session, article.id)
    if article is not None and "loaded_revision_id" not in form.values:
        form.values["loaded_revision_id"] = str(revisions[0].id) if revisions else ""
    return html_page(
        "article_form.html",
        user,
        status_code=status_code,
        form=form,
        article=article,
        review=review,
        revisions=revisions,
        url=article_url(article, get_settings().base_url) if article is not None else None,
        may_publish=can_publish(user),
        may_change=article is None or _is_theirs(user, article),
        may_submit=get_settings().review_required and not can_publish(user),
    )


def _require_action_allowed(user: SignedIn, form: ArticleForm) -> None:
    if form.action in ("publish", "schedule") and not can_publish(user):
        raise Forbidden()


@router.get("/articles/new", response_class=HTMLResponse)
def new_article(user: CurrentUser) -> Response:
    """An empty article editor."""
    return _editor(user, ArticleForm(), None)


@router.post("/articles/new", response_class=HTMLResponse)
def create(user: CurrentUser, posted: CheckedForm) -> Response:
    """Save a new article as a draft, submit it for review, publish it or schedule it; 303 to it.

    403 when the user may not publish or schedule; the editor again with its errors (422)
    when a field is wrong.
    """
    form = ArticleForm.posted(posted)
    _require_action_allowed(user, form)
    data = form.to_create(utcnow())
    if data is None:
        return _editor(user, form, None, status_code=422)
    with session_scope() as session:
        change = create_article(session, data, utcnow(), get_settings(), user.actor)
        if form.action == "submit":
            change = submit_for_review(session, change.article.id, user.actor, utcnow())
        article = change.article
        push_flash(session, user.session_id, _saved_message(article))
        article_id = article.id
    return see_other(f"/console/articles/{article_id}")


# What the flash says after a save, by the status the article ended in (whole sentences, so
# that each translates as a whole).
_SAVED = {
    "draft": N_("Bài “%(title)s” đã được lưu nháp."),
    "pending_review": N_("Bài “%(title)s” đã được gửi cho ban biên tập duyệt."),
    "published": N_("Bài “%(title)s” đã được xuất bản."),
    "withdrawn": N_("Bài “%(title)s” đã được gỡ."),
}


def _saved_message(article: Article) -> str:
    if article.status == ArticleStatus.SCHEDULED:
        return gettext(
            "Bài “%(title)s” sẽ được đăng lúc %(when)s.", title=article.title, when=local_time(article.publish_at)
        )
    return gettext(_SAVED.get(article.status, N_("Bài “%(title)s” đã được lưu.")), title=article.title)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def edit_article(article_id: RowId, user: CurrentUser) -> Response:
    """An article's editor, or its review page while it waits for review; 404 for an unknown id."""
    with session_scope() as session:
        article = get_article(session, article_id)
        if article.status == ArticleStatus.PENDING_REVIEW:
            return _reviewpage(user, article, {}, {})
        return _editor(user, ArticleForm.of(article), article)


@router.post("/articles/{article_id}", response_class=HTMLResponse)
def update(article_id: RowId, user: CurrentUser, posted: CheckedForm) -> Response:
    """Save the editor's changes to an article; 303 back to it.

    403 when the user may not change this article or take this action; 422 with the field
    errors; 409 with the typed text kept when someone saved since the form was loaded or the
    article has been withdrawn.
    """
    form = ArticleForm.posted(posted)
    form.values["loaded_revision_id"] = posted.get("loaded_revision_id", "")
    with session_scope() as session:
        article = get_article(session, article_id, for_update=True)
        if (article.status == ArticleStatus.PUBLISHED and not can_publish(user)) or not _is_theirs(user, article):
            raise Forbidden()
        _require_action_allowed(user, form)
        data = form.to_update(utcnow())
        if data is None:
            return _editor(user, form, article, status_code=422)
        latest = latest_revision_id(session, article_id)
        if latest is not None and form.values["loaded_revision_id"] != str(latest):
            # Someone saved since this form was loaded: saving would silently undo their work.
            form.errors["title"] = gettext(
                "Bài vừa được người khác lưu sau khi bạn mở trang; nội dung bạn gõ vẫn còn ở đây. "
                "Xem bản lưu mới nhất ở cuối trang; bấm lưu lần nữa nếu muốn ghi đè bằng nội dung của bạn."
            )
            form.values["loaded_revision_id"] = str(latest)
            return _editor(user, form, article, status_code=409)
        try:
            change = update_article(session, article_id, data, utcnow(), get_settings(), user.actor)
            if form.action == "submit":
                change = submit_for_review(session, article_id, user.actor, utcnow())
        except Conflict:
            session.rollback()
            article = get_article(session, article_id)
            if article.status == ArticleStatus.PENDING_REVIEW:
                return see_other(f"/console/articles/{article_id}")
            form.errors["title"] = gettext("Bài đã gỡ không sửa được nữa; hãy tạo bài mới.")
            return _editor(user, form, article, status_code=409)
        push_flash(session, user.session_id, _saved_message(change.article))
    return see_other(f"/console/articles/{article_id}")


@router.get("/articles/{article_id}/withdraw", response_class=HTMLResponse)
def confirm_withdraw(article_id: RowId, user: CurrentUser) -> Response:
    """The page that asks to confirm withdrawing an article; editors and admins only (403)."""
    if not can_publish(user):
        raise Forbidden()
    with session_scope() as session:
        return html_page("withdraw.html", user, article=get_article(session, article_id))


@router.post("/articles/{article_id}/withdraw")
def withdraw(article_id: RowId, user: CurrentUser, _: CheckedForm) -> Response:
    """Withdraw an article from the site, its feeds and every channel; editors and admins only (403); 303 back to it."""
    if not can_publish(user):
        raise Forbidden()
    with session_scope() as session:
        change = withdraw_in_domain(session, article_id, utcnow(), get_settings(), user.actor)
        push_flash(
            session, user.session_id, gettext("Bài “%(title)s” đã được gỡ khỏi mọi kênh.", title=change.article.title)
        )
    return see_other(f"/console/articles/{article_id}")


# ---- review ------------------------------------------------------------------------------------


NO_LONGER_PENDING = N_("Bài không còn chờ duyệt (có thể người khác vừa quyết định).")


def _reviewpage(
    user: SignedIn, article: Article, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    with session_scope() as session:
        review = latest_review(session, article.id)
    return html_page(
        "review.html",
        user,
        status_code=status_code,
        article=article,
        review=review,
        values=values,
        errors=errors,
        may_review=can_review(user),
        own_submission=review is not None and review.requested_by == user.actor,
    )


@router.post("/articles/{article_id}/approve", response_class=HTMLResponse)
def approve_article(article_id: RowId, user: CurrentUser, posted: CheckedForm) -> Response:
    """Publish now, or at the time given; the reviewer cannot be the one who submitted it."""
    if not can_review(user):
        raise Forbidden()
    when, error = parse_schedule(posted.get("publish_at", ""), utcnow(), required=False)
    with session_scope() as session:
        article = get_article(session, article_id)
        if error:
            return _reviewpage(user, article, posted, {"publish_at": error}, status_code=422)
        try:
            change = approve(session, article_id, user.actor, utcnow(), get_settings(), when)
        except Conflict as exc:
            session.rollback()
            message = gettext(NO_LONGER_PENDING)
            if isinstance(exc, SelfApproval):
                message = gettext("Bạn đã gửi bài này nên không thể tự duyệt; cần một biên tập viên khác.")
            return _reviewpage(user, get_article(session, article_id), posted, {"approve": message}, 409)
        push_flash(session, user.session_id, _saved_message(change.article))
    return see_other(f"/console/articles/{article_id}")


@router.post("/articles/{article_id}/return", response_class=HTMLResponse)
def return_article(article_id: RowId, user: CurrentUser, posted: CheckedForm) -> Response:
    """Back to the writer as a draft, with the comment they will see in the editor."""
    if not can_review(user):
        raise Forbidden()
    with session_scope() as session:
        try:
            change = return_for_changes(session, article_id, user.actor, posted.get("comment", ""), utcnow())
        except InvalidField:
            session.rollback()
            errors = {"comment": gettext("Ghi rõ cần sửa gì để phóng viên biết.")}
            return _reviewpage(user, get_article(session, article_id), posted, errors, status_code=422)
        except Conflict:
            session.rollback()
            errors = {"approve": gettext(NO_LONGER_PENDING)}
            return _reviewpage(user, get_article(session, article_id), posted, errors, status_code=409)
        returned = gettext("Bài “%(title)s” đã được trả lại cho người viết.", title=change.article.title)
        push_flash(session, user.session_id, returned)
    return see_other(f"/console/articles/{article_id}")


# ---- revisions ---------------------------------------------------------------------------------


@router.get("/articles/{article_id}/revisions/{revision_id}", response_class=HTMLResponse)
def revisionpage(article_id: RowId, revision_id: RowId, user: CurrentUser) -> Response:
    """What this revision changed compared with the one before it, and a way to bring it back."""
    with session_scope() as session:
        article = get_article(session, article_id)
        revision = get_revision(session, article_id, revision_id)
        previous = previous_revision(session, revision)
        return html_page(
            "revision.html",
            user,
            article=article,
            revision=revision,
            previous=previous,
            diffs=diff_revisions(previous, revision),
            is_latest=latest_revision_id(session, article_id) == revision.id,
            may_restore=_may_edit(user, article),
        )


def _is_theirs(user: SignedIn, article: Article) -> bool:
    """Writers change only the articles they created; editors and admins change any."""
    return can_review(user) or article.created_by == user.actor


def _may_edit(user: SignedIn, article: Article) -> bool:
    if article.status in (ArticleStatus.WITHDRAWN, ArticleStatus.PENDING_REVIEW) or not _is_theirs(user, article):
        return False
    return article.status != ArticleStatus.PUBLISHED or can_publish(user)


@router.post("/articles/{article_id}/revisions/{revision_id}/restore")
def restore(article_id: RowId, revision_id: RowId, user: CurrentUser, _: CheckedForm) -> Response:
    """A new revision with the old content, saved like any edit (outbox, sanitiser, validation)."""
    with session_scope() as session:
        article = get_article(session, article_id, for_update=True)
        if not _may_edit(user, article):
            raise Forbidden()
        revision = get_revision(session, article_id, revision_id)
        update_article(session, article_id, restore_update(revision), utcnow(), get_settings(), user.actor, revision.id)
        push_flash(
            session,
            user.session_id,
            gettext("Đã khôi phục bản lưu lúc %(when)s thành một bản mới.", when=local_time(revision.created_at)),
        )
    return see_other(f"/console/articles/{article_id}")


# ---- static files ------------------------------------------------------------------------------

STATIC_MAX_AGE = timedelta(days=1)


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    """The console's CSS, JS and the vendored editor; no CDN, so it works on an intranet."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        raise NotFound(path)
    return FileResponse(target, headers={"Cache-Control": f"public, max-age={int(STATIC_MAX_AGE.total_seconds())}"})
