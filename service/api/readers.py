"""Reader pages: /subscribe (double opt-in), the confirmation landing, preferences.

Thin: the rules live in ``service.readers``; this module reads forms, checks CSRF,
picks the words and renders ``service.web`` templates. Every page is ``noindex`` and
``no-store`` (they carry personal links), and none needs JavaScript.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import redis
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from config.settings import Settings, get_settings
from service.announcements.links import preferences_url
from service.api.deps import AppSettings
from service.articles.categories import public_categories
from service.channels import mail_relay
from service.db.engine import read_scope, session_scope
from service.db.models import Category
from service.db.types import utcnow
from service.deliveries.ratelimit import limiter_for
from service.errors import FieldError, InvalidField, field_errors
from service.i18n import N_, gettext, language, use_language
from service.inputs import RowId
from service.readers import preferences, signup
from service.readers.consent import CURRENT_VERSION, consent_text
from service.readers.schemas import PreferencesForm, SignupForm
from service.site.meta import error_head
from service.site.navigation import current_navigation
from service.web.client import client_of
from service.web.forms import (
    CSRF_FIELD,
    csrf_cookie_name,
    csrf_problem,
    csrf_token,
    new_csrf_cookie,
)
from service.web.http import security_headers
from service.web.refusals import refusal
from service.web.templating import branding, render

log = logging.getLogger(__name__)
router = APIRouter(tags=["readers"], include_in_schema=False)
HTML = "text/html; charset=utf-8"
MAX_FORM_BYTES = 16 * 1024
_limiters: dict[int, Any] = {}


def _lang(request: Request) -> str:
    return language()  # ?lang=en, read by service.i18n.LanguageMiddleware


# Each notice: (title, body), Vietnamese source text, translated when shown.
NOTICES = {
    "sent": (
        N_("Hãy kiểm tra hộp thư"),
        N_(
            "Nếu địa chỉ hợp lệ, một thư vừa được gửi tới đó. Mở thư và làm theo hướng dẫn "
            "(kiểm tra cả thư mục thư rác)."
        ),
    ),
    "confirmed": (
        N_("Đã đăng ký"),
        N_(
            "Cảm ơn bạn. Một thư chào mừng vừa được gửi, kèm liên kết tới trang tùy chọn; mỗi thư sau "
            "cũng có liên kết để đổi lựa chọn hoặc hủy đăng ký."
        ),
    ),
    "expired": (
        N_("Liên kết đã hết hạn"),
        N_("Liên kết này không còn dùng được. Hãy đăng ký lại để nhận liên kết mới."),
    ),
    "used": (
        N_("Liên kết đã được dùng"),
        N_("Đăng ký này đã được xác nhận. Mỗi thư đều có liên kết quản lý đăng ký."),
    ),
    "invalid": (
        N_("Liên kết không hợp lệ"),
        N_("Liên kết không đúng hoặc đã bị cắt ngắn. Hãy mở lại liên kết trong thư."),
    ),
    "refused": (N_("Chưa thể đăng ký lúc này"), ""),
    "mail_unavailable": (
        N_("Tạm thời chưa đăng ký được qua thư"),
        N_(
            "Hệ thống thư điện tử của trang đang tạm ngưng, nên chưa gửi được thư xác nhận. "
            "Vui lòng quay lại sau, hoặc theo dõi tin qua các kênh khác."
        ),
    ),
    "preferences_expired": (
        N_("Liên kết đã hết hạn"),
        N_("Liên kết tới trang tùy chọn này đã hết hạn. Nhập địa chỉ của bạn để nhận liên kết mới qua thư."),
    ),
    "preferences_invalid": (
        N_("Liên kết không hợp lệ"),
        N_("Liên kết không đúng hoặc đã bị cắt ngắn. Mở lại liên kết trong thư, hoặc nhận liên kết mới qua thư."),
    ),
    "link_sent": (
        N_("Hãy kiểm tra hộp thư"),
        N_(
            "Nếu địa chỉ này đang đăng ký nhận tin, một thư có liên kết tới trang tùy chọn vừa được gửi "
            "tới đó (kiểm tra cả thư mục thư rác)."
        ),
    ),
    "csrf": (N_("Biểu mẫu không hợp lệ"), N_("Không gửi được biểu mẫu (%(reason)s). Hãy tải lại trang và thử lại.")),
}
REFUSALS = {
    "client": N_("Có quá nhiều yêu cầu đăng ký từ mạng của bạn. Vui lòng thử lại sau %(minutes)s phút."),
    "address": N_(
        "Địa chỉ này vừa được yêu cầu nhiều lần. Vui lòng kiểm tra hộp thư hoặc thử lại sau %(minutes)s phút."
    ),
    "domain": N_("Có quá nhiều đăng ký chưa xác nhận cho tên miền thư này. Vui lòng thử lại sau."),
    "unavailable": N_("Hệ thống tạm thời không nhận đăng ký. Vui lòng thử lại sau ít phút."),
}
FIELD_ERRORS = {
    "email": N_("Địa chỉ thư điện tử không hợp lệ."),
    "consent": N_("Cần đánh dấu đồng ý để đăng ký."),
    "categories": N_("Chuyên mục không hợp lệ."),
    "categories_none": N_("Hãy chọn ít nhất một chuyên mục, hoặc chọn “Tất cả chuyên mục”."),
    "frequency": N_("Hãy chọn một tần suất."),
}
# What the preferences page says after each action (Post/Redirect/Get: a reload never repeats one).
DONE = {
    "save": N_("Đã lưu."),
    "pause": N_("Đã tạm dừng: sẽ không có thư nào cho tới khi bạn bật lại."),
    "resume": N_("Bạn sẽ nhận tin trở lại."),
    "unsubscribe": N_("Đã hủy đăng ký. Bạn có thể đăng ký lại bất cứ lúc nào."),
}


def _limiter(settings: Settings) -> Any:
    """One rate limiter (one Redis connection pool) per settings object."""
    key = id(settings)
    if key not in _limiters:
        _limiters.clear()
        _limiters[key] = limiter_for(settings)
    return _limiters[key]


async def _form(request: Request) -> dict[str, list[str]]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200)


def _first(form: Mapping[str, list[str]], name: str, default: str = "") -> str:
    return (form.get(name) or [default])[0]


def _page(
    template: str,
    status_code: int,
    lang: str,
    title: str,
    *,
    cookie: tuple[str, str] | None = None,
    **context: Any,
) -> Response:
    """``template`` rendered in ``lang`` (``title`` is a msgid, translated here), never cached, noindex."""
    site = branding()
    with use_language(lang):
        shown = gettext(title)
        body = render(
            template,
            head=error_head(site, shown),
            navigation=current_navigation(),
            title=shown,
            lang=language(),
            **context,
        )
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", **security_headers(site)}
    response = Response(body, status_code=status_code, media_type=HTML, headers=headers)
    if cookie is not None:
        settings = get_settings()
        response.set_cookie(
            cookie[0], cookie[1], httponly=True, samesite="strict", secure=settings.base_url.startswith("https://"),
            path="/",
        )  # fmt: skip
    return response


def _notice(
    lang: str,
    status: int,
    key: str,
    body: str | None = None,
    link: bool = False,
    *,
    preferences: str | None = None,
    follow: bool = False,
    manage: bool = False,
    **variables: Any,
) -> Response:
    """The notice ``key`` of NOTICES in ``lang``; ``body`` (a msgid) replaces its text, filled from
    ``variables``. Buttons: sign up again (``link``), the reader's preferences (``preferences``,
    a signed URL), the other ways to follow the site (``follow``), a fresh preferences link
    (``manage``)."""
    title, text = NOTICES[key]
    with use_language(lang):
        shown = gettext(body or text, **variables)
    return _page(
        "reader_notice.html", status, lang, title, body=shown, link=link, preferences=preferences, follow=follow,
        manage=manage,
    )  # fmt: skip


def _preferences_gone(lang: str, state: str) -> Response:
    """A preferences link that no longer opens (410 expired, 404 otherwise): the way to a fresh one."""
    expired = state == "expired"
    return _notice(lang, 410 if expired else 404, "preferences_expired" if expired else "preferences_invalid",
                   manage=True)  # fmt: skip


def _mail_unavailable(lang: str) -> Response | None:
    """The "e-mail is unavailable" page (503) when no mail can go (decision 0038), else None:
    the sign-up form never promises a mail that cannot be sent, nor stores a sign-up for it."""
    settings = get_settings()
    if mail_relay.route(settings) != "unset" and mail_relay.current().accepts_mail:
        return None
    response = _notice(lang, 503, "mail_unavailable", follow=True)
    response.headers["Retry-After"] = str(int(mail_relay.CHECK_SECONDS))
    return response


def _field_error(lang: str, field: str) -> str:
    with use_language(lang):
        return gettext(FIELD_ERRORS[field])


def _refused(lang: str, error: FieldError) -> str:
    """A refused field of a reader's form in ``lang``: the form's own words for that field,
    else the words of the refusal's code (service.web.refusals), never the English."""
    with use_language(lang):
        return gettext(FIELD_ERRORS[error.field]) if error.field in FIELD_ERRORS else refusal(error)


def _csrf(request: Request, settings: Settings) -> tuple[str, str]:
    """(cookie name, cookie value) for the form about to be shown: the reader's own, or a new one."""
    name = csrf_cookie_name(settings)
    value = request.cookies.get(name)
    if value and 20 <= len(value) <= 64:
        return name, value
    return name, new_csrf_cookie()


def _refuse_csrf(request: Request, settings: Settings, form: Mapping[str, list[str]], lang: str) -> Response | None:
    problem = csrf_problem(
        settings,
        request.headers,
        request.cookies.get(csrf_cookie_name(settings)),
        _first(form, CSRF_FIELD),
        utcnow(),
    )
    if problem is None:
        return None
    return _notice(lang, 403, "csrf", reason=problem)


def _categories(chosen: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(slug, name) of the public categories, and of those in ``chosen`` (a reader's own
    choice, kept on their preferences page after it stopped being public), by name."""
    # Public pages read on autocommit connections: they never queue for SQLite's write lock (decision 0027).
    with read_scope() as session:
        shown = {category.slug: category.name for category in public_categories(session)}
        missing = [slug for slug in chosen if slug not in shown]
        if missing:
            named = select(Category.slug, Category.name).where(Category.slug.in_(missing))
            shown.update((slug, name) for slug, name in session.execute(named))
    return sorted(shown.items(), key=lambda pair: (pair[1], pair[0]))


def _signup_page(
    request: Request,
    settings: Settings,
    lang: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    name, cookie = _csrf(request, settings)
    return _page(
        "subscribe.html",
        status,
        lang,
        N_("Đăng ký nhận tin qua thư điện tử"),
        cookie=(name, cookie),
        consent=consent_text(lang, settings.site_title),
        consent_version=CURRENT_VERSION,
        categories=_categories(),
        values=values or {"email": "", "categories": [], "frequency": "each", "scope": "all"},
        errors=errors or {},
        csrf=csrf_token(settings, cookie, utcnow()),
    )


@router.get("/subscribe")
def subscribe_form(request: Request, settings: AppSettings) -> Response:
    """The sign-up form (Vietnamese, or English with ``?lang=en``), with a fresh CSRF cookie;
    a 503 page saying so when no mail can go."""
    return _mail_unavailable(_lang(request)) or _signup_page(request, settings, _lang(request))


@router.post("/subscribe")
async def subscribe(request: Request, settings: AppSettings) -> Response:
    """Same answer (303 to "check your inbox") for a new, pending, confirmed or bot address."""
    form = await _form(request)
    lang = "en" if _first(form, "lang") == "en" else "vi"
    refused = _refuse_csrf(request, settings, form, lang) or _mail_unavailable(lang)
    if refused is not None:
        return refused
    scope = _first(form, "scope", "all")
    chosen = form.get("categories", []) if scope == "some" else []
    values = {
        "email": _first(form, "email")[:300],
        "categories": chosen,
        "frequency": _first(form, "frequency", "each"),
        "scope": scope,
    }
    try:
        data = SignupForm.model_validate(
            {
                "email": values["email"],
                "categories": chosen,
                "frequency": values["frequency"],
                "consent": _first(form, "consent") == "yes",
                "locale": lang,
                "website": _first(form, "website"),
            }
        )
    except ValidationError as exc:
        errors = {error.field: _refused(lang, error) for error in field_errors(list(exc.errors()))}
        if scope == "some" and not chosen:
            errors["categories"] = _field_error(lang, "categories_none")
        return _signup_page(request, settings, lang, values=values, errors=errors, status=422)
    if scope == "some" and not chosen:
        errors = {"categories": _field_error(lang, "categories_none")}
        return _signup_page(request, settings, lang, values=values, errors=errors, status=422)
    try:
        limited = await throttled(lang, "sign-up", _request_signup, data, client_of(request), settings)
    except InvalidField as exc:
        errors = {exc.field: _field_error(lang, "categories")}
        return _signup_page(request, settings, lang, values=values, errors=errors, status=422)
    return limited or RedirectResponse(f"/subscribe/sent?lang={lang}", status_code=303)


async def throttled(lang: str, what: str, call: Callable[..., None], *args: Any) -> Response | None:
    """Run ``call(*args)`` (a unit of work behind the hourly limits) in the thread pool:
    None when done, else the page that says why not, nothing stored: 429 with
    ``Retry-After`` over a limit, 503 when the limits cannot be checked."""
    try:
        await run_in_threadpool(call, *args)
    except redis.RedisError:
        # The limits cannot be checked: refuse (nothing stored) rather than let a flood through.
        log.warning("%s refused: the rate-limit store is unreachable", what)
        return _notice(lang, 503, "refused", REFUSALS["unavailable"])
    except signup.Refused as refused:
        minutes = max(1, round(refused.retry_after / 60))
        log.info("%s refused: %s", what, refused.reason)  # never the address
        response = _notice(lang, 429, "refused", REFUSALS[refused.reason], minutes=minutes)
        response.headers["Retry-After"] = str(int(refused.retry_after) + 1)
        return response
    return None


def _request_signup(data: SignupForm, client: str, settings: Settings) -> None:
    # In the thread pool, like every database call of an async endpoint: a unit of work may
    # wait for SQLite's write lock (decision 0027), and must not hold the event loop meanwhile.
    with session_scope() as session:
        signup.request_signup(session, data, client, utcnow(), settings, _limiter(settings))


@router.get("/subscribe/sent")
def sent(request: Request) -> Response:
    """The "check your inbox" page every sign-up is answered with, whatever the address's state."""
    return _notice(_lang(request), 200, "sent")


def _confirm_page(request: Request, settings: Settings, token: str, state: str, lang: str) -> Response:
    if state != "ok":
        status = {"expired": 410, "used": 200, "invalid": 404}[state]
        return _notice(lang, status, state, link=state != "used")
    name, cookie = _csrf(request, settings)
    return _page(
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
    form = await _form(request)
    return await run_in_threadpool(_confirm, request, token, settings, form)


def _confirm(request: Request, token: str, settings: Settings, form: Mapping[str, list[str]]) -> Response:
    with read_scope() as session:
        found = signup.inspect_link(session, token, utcnow())
    refused = _refuse_csrf(request, settings, form, found.locale)
    if refused is not None:
        return refused
    with session_scope() as session:
        done = signup.confirm(session, token, client_of(request), utcnow(), settings)
    if done.state != "ok":
        return _confirm_page(request, settings, token, done.state, done.locale)
    assert done.subscription_id is not None  # an "ok" confirmation names its subscription
    return _notice(done.locale, 200, "confirmed", preferences=preferences_url(settings, done.subscription_id, utcnow()))


def _preferences_page(
    request: Request,
    settings: Settings,
    subscription: Any,
    path: str,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = subscription.locale if subscription.locale in ("vi", "en") else "vi"
    name, cookie = _csrf(request, settings)
    if message is not None:
        with use_language(lang):
            message = gettext(message)
    return _page(
        "reader_preferences.html",
        status_code,
        lang,
        N_("Tùy chọn nhận tin"),
        cookie=(name, cookie),
        address=subscription.target,
        state=subscription.status,
        chosen=list(subscription.categories),
        frequency=subscription.frequency,
        categories=_categories(subscription.categories),
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
            return _preferences_gone(_lang(request), state)
        done = request.query_params.get("done")
        message = DONE.get(done) if done is not None else None
        return _preferences_page(request, settings, subscription, request.url.path, message)


@router.post("/subscribe/preferences/{subscription_id}/{signed}")
async def preferences_change(request: Request, subscription_id: RowId, signed: str, settings: AppSettings) -> Response:
    """Apply one change from the preferences page (CSRF-checked), record the consent event, 303 back."""
    form = await _form(request)
    return await run_in_threadpool(_change_preferences, request, subscription_id, signed, settings, form)


def _change_preferences(
    request: Request, subscription_id: int, signed: str, settings: Settings, form: Mapping[str, list[str]]
) -> Response:
    with session_scope() as session:
        state, subscription = preferences.open_link(session, subscription_id, signed, utcnow(), settings)
        if subscription is None:
            return _preferences_gone(_lang(request), state)
        refused = _refuse_csrf(request, settings, form, subscription.locale)
        if refused is not None:
            return refused
        scope = _first(form, "scope", "all")
        try:
            data = PreferencesForm.model_validate(
                {
                    "action": _first(form, "action", "save"),
                    "categories": form.get("categories", []) if scope == "some" else [],
                    "frequency": _first(form, "frequency", "each"),
                }
            )
        except ValidationError as exc:
            # Name the field that was refused (a tampered frequency or action), never a bare 422.
            message = _refused(subscription.locale, field_errors(list(exc.errors()))[0])
            return _preferences_page(request, settings, subscription, request.url.path, message, status_code=422)
        chosen = signup.known_categories(session, data.categories, subscription.categories)
        if data.action == "save" and scope == "some" and not chosen:
            message = FIELD_ERRORS["categories_none"]
            return _preferences_page(request, settings, subscription, request.url.path, message, status_code=422)
        action = preferences.apply(session, subscription, data, client_of(request), utcnow())
    return RedirectResponse(f"{request.url.path}?done={action}", status_code=303)
