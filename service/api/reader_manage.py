"""/subscribe/manage: a reader asks for a fresh link to their preferences by address (issue 23 §3).

The answer is the same page whether the address subscribes or not (nobody learns who reads
the site); the request is throttled like a sign-up, per client and per address; the mail
is the "manage" mail (``service.readers.preferences.request_link``). Shares the reader
pages' helpers (``service.api.reader_forms``): CSRF, the notice pages, the form limits.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from config.settings import Settings
from service.api.deps import AppSettings
from service.api.reader_forms import (
    csrf_cookie,
    field_error,
    first,
    lang_of,
    limiter,
    mail_unavailable,
    notice,
    page,
    read_form,
    refuse_csrf,
    throttled,
)
from service.db.engine import session_scope
from service.db.types import utcnow
from service.i18n import N_
from service.readers import preferences
from service.readers.schemas import AddressForm
from service.web.client import client_of
from service.web.forms import csrf_token

router = APIRouter(tags=["readers"], include_in_schema=False)


def _manage_page(request: Request, settings: Settings, lang: str, *, email: str = "", error: str | None = None,
                 status: int = 200) -> Response:  # fmt: skip
    name, cookie = csrf_cookie(request, settings)
    return page(
        "reader_manage.html",
        status,
        lang,
        N_("Nhận lại liên kết tùy chọn"),
        cookie=(name, cookie),
        email=email,
        error=error,
        csrf=csrf_token(settings, cookie, utcnow()),
    )


@router.get("/subscribe/manage")
def manage_form(request: Request, settings: AppSettings) -> Response:
    """The form: one address field; a 503 page when no mail can go."""
    lang = lang_of(request)
    return mail_unavailable(lang) or _manage_page(request, settings, lang)


@router.post("/subscribe/manage")
async def manage(request: Request, settings: AppSettings) -> Response:
    """303 to the same "check your inbox" page for any valid address; 422 for one that is not
    an address, 429 over the limits, 503 when no mail can go. Nothing is stored but the mail."""
    form = await read_form(request)
    lang = "en" if first(form, "lang") == "en" else "vi"
    refused = refuse_csrf(request, settings, form, lang) or mail_unavailable(lang)
    if refused is not None:
        return refused
    typed = first(form, "email")[:300]
    try:
        address = AddressForm.model_validate({"email": typed}).email
    except ValidationError:
        return _manage_page(request, settings, lang, email=typed, error=field_error(lang, "email"), status=422)
    limited = await throttled(lang, "preferences link", _request_link, address, client_of(request), settings)
    if limited is not None:
        return limited
    return RedirectResponse(f"/subscribe/manage/sent?lang={lang}", status_code=303)


def _request_link(address: str, client: str, settings: Settings) -> None:
    with session_scope() as session:
        preferences.request_link(session, address, client, utcnow(), settings, limiter(settings))


@router.get("/subscribe/manage/sent")
def manage_sent(request: Request) -> Response:
    """The one answer to every accepted request, whether the address subscribes or not."""
    return notice(lang_of(request), 200, "link_sent")
