"""Console: publishing a correction of a published article ("cải chính", Luật Báo chí 2016,
Art. 42; decision 0043). Thin: the form's fields go through the API's own schema
(``CorrectionIn``) and the domain function the API calls, which decides who may (editors
and admins) and what (a published article); its refusals are the console's 403 and 409 pages.
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.articles.corrections import MAX_CORRECTION_CHARS, CorrectionIn, corrections_of, publish_correction
from service.articles.editorial import NotPermitted, Rule, WrongState
from service.articles.service import get_article
from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, see_other
from service.console.security import CheckedForm, CurrentUser, editorial_actor
from service.db.engine import session_scope
from service.db.models import ArticleStatus
from service.db.types import utcnow
from service.errors import field_errors
from service.i18n import gettext
from service.inputs import RowId
from service.web.refusals import refusal

router = console_router()
FIELDS = ("wrong", "right")


def _page(session: Session, user: SignedIn, article_id: int, values: dict[str, str], errors: dict[str, str],
          status_code: int = 200) -> HTMLResponse:  # fmt: skip
    """The form, refused before it is shown to those who may not publish a correction."""
    actor = editorial_actor(user)
    if not actor.reviews:
        raise NotPermitted(Rule.CORRECTING_NEEDS_EDITOR)
    article = get_article(session, article_id)
    if article.status != ArticleStatus.PUBLISHED:
        raise WrongState(Rule.ONLY_PUBLISHED_CORRECTED)
    return html_page(
        "correction.html",
        user,
        status_code=status_code,
        article=article,
        corrections=corrections_of(session, article_id),
        values=values,
        errors=errors,
        limit=MAX_CORRECTION_CHARS,
    )


@router.get("/articles/{article_id}/correction", response_class=HTMLResponse)
def correction_form(article_id: RowId, user: CurrentUser) -> Response:
    """The correction form of a published article, with its earlier corrections; 403 for a
    writer, 409 for an article that is not published."""
    with session_scope() as session:
        return _page(session, user, article_id, {"wrong": "", "right": "", "apology": ""}, {})


@router.post("/articles/{article_id}/correction")
def correct(article_id: RowId, user: CurrentUser, form: CheckedForm) -> Response:
    """Publish the correction: 303 back to the article with a flash; the form again (422) with
    each field's error in the page's language when a field is empty or too long."""
    values = {name: form.get(name, "") for name in FIELDS} | {"apology": "on" if form.get("apology") else ""}
    with session_scope() as session:
        try:
            data = CorrectionIn(wrong=values["wrong"], right=values["right"], apology=bool(values["apology"]))
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in field_errors(list(exc.errors())):
                errors.setdefault(error.field if error.field in FIELDS else "wrong", refusal(error))
            return _page(session, user, article_id, values, errors, status_code=422)
        publish_correction(session, article_id, data, utcnow(), get_settings(), editorial_actor(user))
        title = get_article(session, article_id).title
        push_flash(session, user.session_id, gettext("Đã đăng cải chính bài “%(title)s”.", title=title))
    return see_other(f"/console/articles/{article_id}")
