"""Reader pages: /subscribe (double opt-in), the confirmation landing, preferences.

Thin: the rules live in ``service.readers``; these routes read forms, check CSRF, pick
the words and render ``service.web`` templates through ``service/api/reader_forms.py``
(the words and the page frame every reader page shares). Every page is ``noindex`` and
``no-store`` (they carry personal links), and none needs JavaScript.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from service.api.deps import AppSettings
from service.api.reader_forms import (
    DONE,
    FIELD_ERRORS,
    REFUSALS,
    category_choices,
    csrf_cookie,
    field_error,
    first,
    notice,
    page_language,
    read_form,
    reader_page,
    refuse_csrf,
    refused_words,
)
from service.db.engine import read_scope, session_scope
from service.db.types import utcnow
from service.deliveries.ratelimit import limiter_for
from service.errors import InvalidField, field_errors
from service.i18n import N_, gettext, use_language
from service.inputs import RowId
from service.readers import preferences, signup
from service.readers.consent import CURRENT_VERSION, consent_text
from service.readers.schemas import PreferencesForm, SignupForm
from service.web.client import client_of
from service.web.forms import csrf_token

log = logging.getLogger(__name__)
router = APIRouter(tags=["readers"], include_in_schema=False)
_limiters: dict[int, Any] = {}


def _limiter(settings: Settings) -> Any:
    """One rate limiter (one Redis connection pool) per settings object."""
    key = id(settings)
    if key not in _limiters:
        _limiters.clear()
        _limiters[key] = limiter_for(settings)
    return _limiters[key]


def _signup_page(
    request: Request,
    settings: Settings,
    lang: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    name, cookie = csrf_cookie(request, settings)
    return reader_page(
        "subscribe.html",
        status,
        lang,
        N_("Đăng ký nhận tin qua thư điện tử"),
        cookie=(name, cookie),
        consent=consent_text(lang, settings.site_title),
        consent_version=CURRENT_VERSION,
        categories=category_choices(),
        values=values or {"email": "", "categories": [], "frequency": "each", "scope": "all"},
        errors=errors or {},
        csrf=csrf_token(settings, cookie, utcnow()),
    )


@router.get("/subscribe")
def subscribe_form(request: Request, settings: AppSettings) -> Response:
    """The sign-up form (Vietnamese, or English with ``?lang=en``), with a fresh CSRF cookie."""
    return _signup_page(request, settings, page_language(request))


@router.post("/subscribe")
async def subscribe(request: Request, settings: AppSettings) -> Response:
    """Same answer (303 to "check your inbox") for a new, pending, confirmed or bot address."""
    form = await read_form(request)
    lang = "en" if first(form, "lang") == "en" else "vi"
    refused = refuse_csrf(request, settings, form, lang)
    if refused is not None:
        return refused
    scope = first(form, "scope", "all")
    chosen = form.get("categories", []) if scope == "some" else []
    values = {
        "email": first(form, "email")[:300],
        "categories": chosen,
        "frequency": first(form, "frequency", "each"),
        "scope": scope,
    }
    try:
        data = SignupForm.model_validate(
            {
                "email": values["email"],
                "categories": chosen,
                "frequency": values["frequency"],
                "consent": first(form, "consent") == "yes",
                "locale": lang,
                "website": first(form, "website"),
            }
        )
    except ValidationError as exc:
        errors = {error.field: refused_words(lang, error) for error in field_errors(list(exc.errors()))}
        if scope == "some" and not chosen:
            errors["categories"] = field_error(lang, "categories_none")
        return _signup_page(request, settings, lang, values=values, errors=errors, status=422)
    if scope == "some" and not chosen:
        errors = {"categories": field_error(lang, "categories_none")}
        return _signup_page(request, settings, lang, values=values, errors=errors, status=422)
    client = client_of(request)
    try:
        await run_in_threadpool(_request_signup, data, client, settings)
    except InvalidField as exc:
        errors = {exc.field: field_error(lang, "categories")}
        return _signup_page(request, settings, lang, values=values, errors=errors, status=422)
    except redis.RedisError:
        # The limits cannot be checked: refuse (nothing stored) rather than let a flood through.
        log.warning("sign-up refused: the rate-limit store is unreachable")
        return notice(lang, 503, "refused", REFUSALS["unavailable"])
    except signup.Refused as refused_signup:
        minutes = max(1, round(refused_signup.retry_after / 60))
        log.info("sign-up refused: %s", refused_signup.reason)  # never the address
        response = notice(lang, 429, "refused", REFUSALS[refused_signup.reason], minutes=minutes)
        response.headers["Retry-After"] = str(int(refused_signup.retry_after) + 1)
        return response
    return RedirectResponse(f"/subscribe/sent?lang={lang}", status_code=303)


def _request_signup(data: SignupForm, client: str, settings: Settings) -> None:
    # In the thread pool, like every database call of an async endpoint: a unit of work may
    # wait for SQLite's write lock (decision 0027), and must not hold the event loop meanwhile.
    with session_scope() as session:
        signup.request_signup(session, data, client, utcnow(), settings, _limiter(settings))


@router.get("/subscribe/sent")
def sent(request: Request) -> Response:
    """The "check your inbox" page every sign-up is answered with, whatever the address's state."""
    return notice(page_language(request), 200, "sent")


def _confirm_page(request: Request, settings: Settings, token: str, state: str, lang: str) -> Response:
    if state != "ok":
        status = {"expired": 410, "used": 200, "invalid": 404}[state]
        return notice(lang, status, state, link=state != "used")
    name, cookie = csrf_cookie(request, settings)
    return reader_page(
        "reader_confirm.html",
        200,
        lang,
        N_("Xác nhận đăng ký"),
        cookie=(name, cookie),
        action=f"/subscribe/confirm/{token}",
        csrf=csrf_token(settings, cookie, utcnow()),
    )


@router.get("/subscribe/confirm/{token}")
def confirm_landing(request: Request, token: str, settings: AppSettings) -> Response:
    """The link in the mail: a page with a button. A GET never confirms (mail scanners follow links)."""
    with read_scope() as session:
        found = signup.inspect_link(session, token, utcnow())
    return _confirm_page(request, settings, token, found.state, found.locale)


@router.post("/subscribe/confirm/{token}")
async def confirm(request: Request, token: str, settings: AppSettings) -> Response:
    """The landing page's POST: confirms the sign-up (single use, before its expiry); GET never does."""
    form = await read_form(request)
    return await run_in_threadpool(_confirm, request, token, settings, form)


def _confirm(request: Request, token: str, settings: Settings, form: Mapping[str, list[str]]) -> Response:
    with read_scope() as session:
        found = signup.inspect_link(session, token, utcnow())
    refused = refuse_csrf(request, settings, form, found.locale)
    if refused is not None:
        return refused
    with session_scope() as session:
        done = signup.confirm(session, token, client_of(request), utcnow())
    if done.state != "ok":
        return _confirm_page(request, settings, token, done.state, done.locale)
    return notice(done.locale, 200, "confirmed")


def _preferences_page(
    request: Request,
    settings: Settings,
    subscription: Any,
    path: str,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = subscription.locale if subscription.locale in ("vi", "en") else "vi"
    name, cookie = csrf_cookie(request, settings)
    if message is not None:
        with use_language(lang):
            message = gettext(message)
    return reader_page(
        "reader_preferences.html",
        status_code,
        lang,
        N_("Tùy chọn nhận tin"),
        cookie=(name, cookie),
        address=subscription.target,
        state=subscription.status,
        chosen=list(subscription.categories),
        frequency=subscription.frequency,
        categories=category_choices(subscription.categories),
        action=path,
        message=message,
        csrf=csrf_token(settings, cookie, utcnow()),
    )


@router.get("/subscribe/preferences/{subscription_id}/{signed}")
def preferences_page(request: Request, subscription_id: RowId, signed: str, settings: AppSettings) -> Response:
    """The preferences page behind an HMAC-signed link: categories, frequency, pause, unsubscribe."""
    with read_scope() as session:
        state, subscription = preferences.open_link(session, subscription_id, signed, utcnow(), settings)
        if subscription is None:
            return notice(page_language(request), 410 if state == "expired" else 404, state, link=True)
        done = request.query_params.get("done")
        message = DONE.get(done) if done is not None else None
        return _preferences_page(request, settings, subscription, request.url.path, message)


@router.post("/subscribe/preferences/{subscription_id}/{signed}")
async def preferences_change(request: Request, subscription_id: RowId, signed: str, settings: AppSettings) -> Response:
    """Apply one change from the preferences page (CSRF-checked), record the consent event, 303 back."""
    form = await read_form(request)
    return await run_in_threadpool(_change_preferences, request, subscription_id, signed, settings, form)


def _change_preferences(
    request: Request, subscription_id: int, signed: str, settings: Settings, form: Mapping[str, list[str]]
) -> Response:
    with session_scope() as session:
        state, subscription = preferences.open_link(session, subscription_id, signed, utcnow(), settings)
        if subscription is None:
            return notice(page_language(request), 410 if state == "expired" else 404, state, link=True)
        refused = refuse_csrf(request, settings, form, subscription.locale)
        if refused is not None:
            return refused
        scope = first(form, "scope", "all")
        try:
            data = PreferencesForm.model_validate(
                {
                    "action": first(form, "action", "save"),
                    "categories": form.get("categories", []) if scope == "some" else [],
                    "frequency": first(form, "frequency", "each"),
                }
            )
        except ValidationError as exc:
            # Name the field that was refused (a tampered frequency or action), never a bare 422.
            message = refused_words(subscription.locale, field_errors(list(exc.errors()))[0])
            return _preferences_page(request, settings, subscription, request.url.path, message, status_code=422)
        chosen = signup.known_categories(session, data.categories, subscription.categories)
        if data.action == "save" and scope == "some" and not chosen:
            message = FIELD_ERRORS["categories_none"]
            return _preferences_page(request, settings, subscription, request.url.path, message, status_code=422)
        action = preferences.apply(session, subscription, data, client_of(request), utcnow())
    return RedirectResponse(f"{request.url.path}?done={action}", status_code=303)
