"""Console pages that change an article: the editor (new, save, correct in place), withdraw,
revisions and restore. Thin: parse the form, call the domain function the API calls; the
editorial policy inside it decides who may do what (decision 0026), and the page asks the
same policy what to offer (service.console.editor_actions).
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.articles.editorial import ChangeKind, Outcome, WrongState, may_create_categories, outcome_for, refusal
from service.articles.review import latest_review, submit_for_review
from service.articles.revisions import (
    diff_revisions,
    get_revision,
    latest_revision_id,
    list_revisions,
    previous_revision,
    restore_update,
)
from service.articles.service import MAX_REASON_CHARS, create_article, get_article, update_article
from service.articles.service import withdraw_article as withdraw_in_domain
from service.articles.urls import article_url
from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, see_other
from service.console.editor_actions import editor_actions, saved_message
from service.console.forms import ArticleForm
from service.console.review_pages import review_page
from service.console.security import CheckedForm, CurrentUser, Forbidden, PostedCategories, editorial_actor
from service.console.templating import local_time
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus, Category
from service.db.types import utcnow
from service.errors import InvalidField
from service.i18n import gettext
from service.inputs import RowId
from service.text import search_key
from service.web.refusals import words

router = console_router()


def editor_page(
    session: Session, user: SignedIn, form: ArticleForm, article: Article | None, status_code: int = 200
) -> HTMLResponse:
    """The editor for ``article`` (None: a new one) with ``form``'s values and errors."""
    review, revisions = None, []
    if article is not None:
        review = latest_review(session, article.id)
        revisions = list_revisions(session, article.id)
    if article is not None and "loaded_revision_id" not in form.values:
        form.values["loaded_revision_id"] = str(revisions[0].id) if revisions else ""
    actor = editorial_actor(user)
    return html_page(
        "article_form.html",
        user,
        status_code=status_code,
        form=form,
        article=article,
        review=review,
        revisions=revisions,
        url=article_url(article, get_settings().base_url) if article is not None else None,
        actions=editor_actions(session, actor, article, form.values.get("publish_at", "").strip()),
        zone=get_settings().timezone,
        # Categories are chosen from the list; typing a new one is a step of its own, offered
        # to those BANTIN_NEW_CATEGORIES_BY names (issue 20 §4).
        # In reading order ("lịch sử" beside "Lịch sử", "Đ" with "D"), not the bytes' order.
        category_names=sorted(session.scalars(select(Category.name)), key=search_key),
        may_create_categories=may_create_categories(actor, get_settings()),
    )


@router.get("/articles/new", response_class=HTMLResponse)
def new_article(user: CurrentUser) -> Response:
    """An empty article editor."""
    with session_scope() as session:
        return editor_page(session, user, ArticleForm(), None)


@router.post("/articles/new", response_class=HTMLResponse)
def create(user: CurrentUser, posted: CheckedForm, chosen: PostedCategories) -> Response:
    """Save a new article as a draft, submit it for review, publish it or schedule it; 303 to it.

    403 when the user may not publish or schedule; the editor again with its errors (422)
    when a field is wrong.
    """
    form = ArticleForm.posted(posted, chosen)
    data = form.to_create(utcnow())
    with session_scope() as session:
        if data is None:
            return editor_page(session, user, form, None, status_code=422)
        actor = editorial_actor(user)
        try:
            change = create_article(session, data, utcnow(), get_settings(), actor)
        except InvalidField as refused:  # an image without its words (decision 0034)
            session.rollback()
            form.refuse(refused)
            return editor_page(session, user, form, None, status_code=422)
        if form.action == "submit":
            change = submit_for_review(session, change.article.id, actor, utcnow(), get_settings())
        article = change.article
        push_flash(session, user.session_id, saved_message(article))
        article_id = article.id
    return see_other(f"/console/articles/{article_id}")


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def edit_article(article_id: RowId, user: CurrentUser) -> Response:
    """An article's editor, or its review page while it waits for review; 404 for an unknown id."""
    with session_scope() as session:
        article = get_article(session, article_id)
        if article.status == ArticleStatus.PENDING_REVIEW:
            return review_page(session, user, article, {}, {})
        return editor_page(session, user, ArticleForm.of(article), article)


@router.get("/articles/{article_id}/edit", response_class=HTMLResponse)
def correct_article(article_id: RowId, user: CurrentUser) -> Response:
    """The editor of an article in review, for an editor correcting it in place; any other
    article's editor is its own page. 403 when the policy would refuse the correction."""
    with session_scope() as session:
        article = get_article(session, article_id)
        if article.status != ArticleStatus.PENDING_REVIEW:
            return see_other(f"/console/articles/{article_id}")
        if refusal(session, editorial_actor(user), article, ChangeKind.CONTENT) is not None:
            raise Forbidden()
        return editor_page(session, user, ArticleForm.of(article), article)


@router.post("/articles/{article_id}", response_class=HTMLResponse)
def update(article_id: RowId, user: CurrentUser, posted: CheckedForm, chosen: PostedCategories) -> Response:
    """Save the editor's changes to an article; 303 back to it.

    403 when the user may not change this article or take this action; 422 with the field
    errors; 409 with the typed text kept when someone saved since the form was loaded or the
    article's state forbids the change (withdrawn; in review and not theirs to correct).
    """
    form = ArticleForm.posted(posted, chosen)
    form.values["loaded_revision_id"] = posted.get("loaded_revision_id", "")
    actor = editorial_actor(user)
    with session_scope() as session:
        article = get_article(session, article_id, for_update=True)
        data = form.to_update(utcnow(), article.publish_at)
        if data is None:
            return editor_page(session, user, form, article, status_code=422)
        corrected_in_review = article.status == ArticleStatus.PENDING_REVIEW
        latest = latest_revision_id(session, article_id)
        if latest is not None and form.values["loaded_revision_id"] != str(latest):
            # Someone saved since this form was loaded: saving would silently undo their work.
            form.errors["title"] = gettext(
                "Bài vừa được người khác lưu sau khi bạn mở trang; nội dung bạn gõ vẫn còn ở đây. "
                "Xem bản lưu mới nhất ở cuối trang; bấm lưu lần nữa nếu muốn ghi đè bằng nội dung của bạn."
            )
            form.values["loaded_revision_id"] = str(latest)
            return editor_page(session, user, form, article, status_code=409)
        try:
            change = update_article(session, article_id, data, utcnow(), get_settings(), actor)
            if form.action == "submit" and change.article.status == ArticleStatus.DRAFT:
                change = submit_for_review(session, article_id, actor, utcnow(), get_settings())
        except InvalidField as refused:  # an image without its words (decision 0034)
            session.rollback()
            form.refuse(refused)
            return editor_page(session, user, form, get_article(session, article_id), status_code=422)
        except WrongState as refused:
            session.rollback()
            article = get_article(session, article_id)
            if article.status == ArticleStatus.PENDING_REVIEW:
                return see_other(f"/console/articles/{article_id}")
            form.errors["title"] = refused.message
            return editor_page(session, user, form, article, status_code=409)
        message = saved_message(change.article)
        if corrected_in_review and change.article.status == ArticleStatus.PENDING_REVIEW:
            message = gettext("Đã lưu chỉnh sửa của bạn; bài “%(title)s” vẫn chờ duyệt.", title=change.article.title)
        push_flash(session, user.session_id, message)
    return see_other(f"/console/articles/{article_id}")


@router.get("/articles/{article_id}/withdraw", response_class=HTMLResponse)
def confirm_withdraw(article_id: RowId, user: CurrentUser) -> Response:
    """The page that asks to confirm withdrawing an article; 403 for those who may not withdraw it."""
    with session_scope() as session:
        article = get_article(session, article_id)
        outcome_for(session, editorial_actor(user), article, {ChangeKind.WITHDRAW})
        return html_page("withdraw.html", user, article=article, reason="", error=None, reason_limit=MAX_REASON_CHARS)


@router.post("/articles/{article_id}/withdraw")
def withdraw(article_id: RowId, user: CurrentUser, form: CheckedForm) -> Response:
    """Withdraw an article from the site, its feeds and every channel, with the reason its
    410 page shows (decision 0043); 403 for those who may not; 303 back to it; the page
    again (422) when the reason is too long."""
    reason = form.get("reason", "")
    with session_scope() as session:
        try:
            change = withdraw_in_domain(session, article_id, utcnow(), get_settings(), editorial_actor(user), reason)
        except InvalidField as refused:
            session.rollback()
            error = words(refused.code, refused.params, refused.message)
            article = get_article(session, article_id)
            return html_page(
                "withdraw.html", user, status_code=422, article=article, reason=reason, error=error,
                reason_limit=MAX_REASON_CHARS,
            )  # fmt: skip
        push_flash(
            session, user.session_id, gettext("Bài “%(title)s” đã được gỡ khỏi mọi kênh.", title=change.article.title)
        )
    return see_other(f"/console/articles/{article_id}")


# ---- revisions ---------------------------------------------------------------------------------


@router.get("/articles/{article_id}/revisions/{revision_id}", response_class=HTMLResponse)
def revisionpage(article_id: RowId, revision_id: RowId, user: CurrentUser) -> Response:
    """What this revision changed compared with the one before it, and a way to bring it back
    (offered when the policy allows it, saying when restoring sends the article back to review)."""
    with session_scope() as session:
        article = get_article(session, article_id)
        revision = get_revision(session, article_id, revision_id)
        previous = previous_revision(session, revision)
        actor = editorial_actor(user)
        refused = refusal(session, actor, article, ChangeKind.RESTORE)
        back_to_review = refused is None and (
            outcome_for(session, actor, article, {ChangeKind.RESTORE}) == Outcome.BACK_TO_REVIEW
        )
        return html_page(
            "revision.html",
            user,
            article=article,
            revision=revision,
            previous=previous,
            diffs=diff_revisions(previous, revision),
            is_latest=latest_revision_id(session, article_id) == revision.id,
            may_restore=refused is None,
            back_to_review=back_to_review,
        )


@router.post("/articles/{article_id}/revisions/{revision_id}/restore")
def restore(article_id: RowId, revision_id: RowId, user: CurrentUser, _: CheckedForm) -> Response:
    """A new revision with the old content, saved like any edit (the policy, outbox, sanitiser, validation)."""
    with session_scope() as session:
        was_scheduled = get_article(session, article_id).status == ArticleStatus.SCHEDULED
        revision = get_revision(session, article_id, revision_id)
        try:
            change = update_article(
                session,
                article_id,
                restore_update(revision),
                utcnow(),
                get_settings(),
                editorial_actor(user),
                revision.id,
            )
        except InvalidField as refused:  # the old revision's images lack their words (decision 0034)
            session.rollback()
            article = get_article(session, article_id)
            form = ArticleForm.of(article)
            form.refuse(refused)
            return editor_page(session, user, form, article, status_code=422)
        restored = gettext("Đã khôi phục bản lưu lúc %(when)s thành một bản mới.", when=local_time(revision.created_at))
        if was_scheduled and change.article.status == ArticleStatus.PENDING_REVIEW:
            restored = gettext(
                "Đã khôi phục bản lưu lúc %(when)s; bài đã quay lại chờ duyệt và không còn hẹn giờ.",
                when=local_time(revision.created_at),
            )
        push_flash(session, user.session_id, restored)
    return see_other(f"/console/articles/{article_id}")
