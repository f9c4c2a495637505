"""The review page: an editor approves (at the time the article is meant for, or now) or
returns a submission, or opens it to correct it in place. Thin over service.articles.review;
the editorial policy decides who may (decision 0026).

What an approval does is what its button says (decision 0026). The time field shows the
time the article is meant for as its value (a calendar draft's anniversary morning); the
primary button then reads "Duyệt và hẹn giờ <that time>", and "Duyệt và xuất bản ngay" is the
secondary choice. An empty field never means "now" while a time is stored: a POST without
an action and without a time keeps the stored one (service.articles.review.approve).
"""

from __future__ import annotations

from datetime import datetime

from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.articles.editorial import ChangeKind, NotPermitted, Rule, WrongState, refusal
from service.articles.review import approve, latest_review, return_for_changes
from service.articles.revisions import latest_revision_id, list_revisions
from service.articles.service import get_article
from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, see_other
from service.console.editor_actions import Button, saved_message
from service.console.forms import is_stored, parse_schedule, refuse_typed_time_for_now
from service.console.security import CheckedForm, CurrentUser, editorial_actor
from service.console.templating import local_time
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus
from service.db.types import utcnow
from service.errors import InvalidField
from service.i18n import N_, gettext
from service.inputs import RowId
from service.staff.workflow import stage_at, stage_label, stages
from service.web.refusals import words

router = console_router()
APPROVE_AT = N_("Duyệt và hẹn giờ %(when)s")
CHANGED_SINCE_LOADED = N_(
    "Bài vừa được sửa sau khi bạn mở trang, nên chưa được duyệt. Hãy đọc lại nội dung mới rồi duyệt."
)


def approval_buttons(typed_time: str, stored: datetime | None, now: datetime) -> list[Button]:
    """Primary first: approve at the time shown, when there is one still to come; else approve now."""
    at_time = Button(
        "schedule",
        gettext(APPROVE_AT, when=typed_time) if typed_time else gettext("Duyệt và hẹn giờ"),
        label_with_time=gettext(APPROVE_AT, when="{when}"),
    )
    now_button = Button("publish", gettext("Duyệt và xuất bản ngay"))
    passed = stored is not None and stored <= now and is_stored(typed_time, stored)
    if typed_time and not passed:
        return [Button(at_time.action, at_time.label, True, at_time.label_with_time), now_button]
    return [Button(now_button.action, now_button.label, True), at_time]


def review_page(
    session: Session,
    user: SignedIn,
    article: Article,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    """The review page of ``article``; ``values``/``errors``: a decision form posted and refused."""
    actor = editorial_actor(user)
    refused = refusal(session, actor, article, ChangeKind.APPROVE)
    typed_time = values.get("publish_at", local_time(article.publish_at)).strip()
    now = utcnow()
    review = latest_review(session, article.id)
    # Saves since the submission: corrections in place, each with who made it (its revision).
    corrections = [r for r in list_revisions(session, article.id) if review and r.created_at > review.requested_at]
    # The workflow's stage (decision 0042): before the last, approving moves the article on.
    workflow = stages(session)
    stage, last = stage_at(session, review.stage if review else 0)
    buttons = approval_buttons(typed_time, article.publish_at, now)
    if not last:
        following = stage_label(workflow[stage.position + 1])
        buttons = [Button("next", gettext("Duyệt, chuyển sang bước “%(stage)s”", stage=following), True)]
    return html_page(
        "review.html",
        user,
        status_code=status_code,
        article=article,
        review=review,
        corrections=corrections,
        values={**values, "publish_at": typed_time},
        errors=errors,
        may_review=not isinstance(refused, NotPermitted),
        own_submission=refused is not None and refused.rule in (Rule.SELF_APPROVAL, Rule.OWN_ARTICLE),
        not_your_stage=refused is not None and refused.rule == Rule.NOT_YOUR_STAGE,
        may_correct=refusal(session, actor, article, ChangeKind.CONTENT) is None,
        buttons=buttons,
        stage_name=stage_label(stage),
        stage_number=stage.position + 1,
        stage_count=len(workflow),
        time_passed=article.publish_at is not None and article.publish_at <= now,
        loaded_revision_id=values.get("loaded_revision_id") or str(latest_revision_id(session, article.id) or ""),
        zone=get_settings().timezone,
    )


def _when(posted: dict[str, str], stored: datetime | None) -> tuple[datetime | None, bool, str | None]:
    """(time to schedule at, publish now?, error) from the approval form's action and time field.

    "publish": now (refused if a different time was typed); "schedule": the field's time,
    which must be in the future; no action: a time typed in is scheduled, an empty or
    unchanged field leaves the choice to approve(), which keeps the stored time.
    """
    action, raw = posted.get("action", ""), posted.get("publish_at", "")
    if action == "publish":
        return None, True, refuse_typed_time_for_now(raw, stored)
    if action == "schedule" or (raw.strip() and not is_stored(raw, stored)):
        when, error = parse_schedule(raw, utcnow())
        return when, False, error
    return None, False, None


@router.post("/articles/{article_id}/approve", response_class=HTMLResponse)
def approve_article(article_id: RowId, user: CurrentUser, posted: CheckedForm) -> Response:
    """Approve at the time the form says or now (see the module); 403 for writers, 409 for the
    submitter or a decision made meanwhile, 422 for a time that is not one to schedule at."""
    with session_scope() as session:
        article = get_article(session, article_id)
        when, now_instead, error = _when(posted, article.publish_at)
        if error:
            return review_page(session, user, article, posted, {"publish_at": error}, status_code=422)
        loaded = posted.get("loaded_revision_id")
        if loaded and loaded != str(latest_revision_id(session, article_id)):
            # Corrected in place since this page was loaded: approve only what was read.
            refused = {"approve": gettext(CHANGED_SINCE_LOADED)}
            return review_page(session, user, article, {**posted, "loaded_revision_id": ""}, refused, 409)
        try:
            change = approve(
                session, article_id, editorial_actor(user), utcnow(), get_settings(), when, publish_now=now_instead
            )
        except InvalidField as refused_field:  # an image without its words (decision 0034)
            session.rollback()
            message = words(refused_field.code, refused_field.params, refused_field.message)
            return review_page(session, user, get_article(session, article_id), posted, {"approve": message}, 422)
        except WrongState as refused_state:
            session.rollback()
            field = "publish_at" if refused_state.rule == Rule.PLANNED_TIME_PASSED else "approve"
            article = get_article(session, article_id)
            return review_page(session, user, article, posted, {field: refused_state.message}, 409)
        moved_on = change.article.status == ArticleStatus.PENDING_REVIEW
        if moved_on:
            review = latest_review(session, article_id)
            stage, _ = stage_at(session, review.stage if review else 0)
            message = gettext("Bài “%(title)s” đã chuyển sang bước “%(stage)s”.", title=change.article.title,
                              stage=stage_label(stage))  # fmt: skip
        push_flash(session, user.session_id, message if moved_on else saved_message(change.article))
    return see_other(f"/console/articles/{article_id}")


@router.post("/articles/{article_id}/return", response_class=HTMLResponse)
def return_article(article_id: RowId, user: CurrentUser, posted: CheckedForm) -> Response:
    """Back to the writer as a draft, with the comment they will see in the editor."""
    with session_scope() as session:
        try:
            change = return_for_changes(
                session, article_id, editorial_actor(user), posted.get("comment", ""), utcnow(), get_settings()
            )
        except InvalidField:
            session.rollback()
            errors = {"comment": gettext("Ghi rõ cần sửa gì để phóng viên biết.")}
            return review_page(session, user, get_article(session, article_id), posted, errors, status_code=422)
        except WrongState as refused:
            session.rollback()
            errors = {"approve": refused.message}
            return review_page(session, user, get_article(session, article_id), posted, errors, status_code=409)
        returned = gettext("Bài “%(title)s” đã được trả lại cho người viết.", title=change.article.title)
        push_flash(session, user.session_id, returned)
    return see_other(f"/console/articles/{article_id}")
