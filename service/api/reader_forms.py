"""What every reader page shares (/subscribe, the confirmation, preferences, /subscribe/manage):
the words of their notices and refusals, form reading within bounds, the CSRF cookie and
check, the hourly limits' refusals, and the "e-mail is unavailable" page (decision 0038).

Every page is ``noindex`` and ``no-store`` (they carry personal links), and none needs
JavaScript.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

import redis
from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from config.settings import Settings, get_settings
from service.channels import mail_relay
from service.db.types import utcnow
from service.deliveries.ratelimit import limiter_for
from service.errors import FieldError
from service.i18n import N_, gettext, language, use_language
from service.readers import signup
from service.site.meta import error_head
from service.site.navigation import current_navigation
from service.web.forms import CSRF_FIELD, csrf_cookie_name, csrf_problem, new_csrf_cookie
from service.web.http import security_headers
from service.web.refusals import refusal
from service.web.templating import branding, render

log = logging.getLogger(__name__)
limiters: dict[int, Any] = {}


HTML = "text/html; charset=utf-8"
MAX_FORM_BYTES = 16 * 1024


def lang_of(request: Request) -> str:
    """The page's language: ``vi``, or ``en`` when the request asks for it."""
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


def limiter(settings: Settings) -> Any:
    """One rate limiter (one Redis connection pool) per settings object."""
    key = id(settings)
    if key not in limiters:
        limiters.clear()
        limiters[key] = limiter_for(settings)
    return limiters[key]


async def read_form(request: Request) -> dict[str, list[str]]:
    """The urlencoded body as lists of values; empty when it passes MAX_FORM_BYTES (nothing is read as asked)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200)


def first(form: Mapping[str, list[str]], name: str, default: str = "") -> str:
    """The first value of ``name`` in ``form``, else ``default``."""
    return (form.get(name) or [default])[0]


def page(
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


def notice(
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
    return page(
        "reader_notice.html", status, lang, title, body=shown, link=link, preferences=preferences, follow=follow,
        manage=manage,
    )  # fmt: skip


def preferences_gone(lang: str, state: str) -> Response:
    """A preferences link that no longer opens (410 expired, 404 otherwise): the way to a fresh one."""
    expired = state == "expired"
    return notice(lang, 410 if expired else 404, "preferences_expired" if expired else "preferences_invalid",
                   manage=True)  # fmt: skip


def mail_unavailable(lang: str) -> Response | None:
    """The "e-mail is unavailable" page (503) when no mail can go (decision 0038), else None:
    the sign-up form never promises a mail that cannot be sent, nor stores a sign-up for it."""
    settings = get_settings()
    if mail_relay.route(settings) != "unset" and mail_relay.current().accepts_mail:
        return None
    response = notice(lang, 503, "mail_unavailable", follow=True)
    response.headers["Retry-After"] = str(int(mail_relay.CHECK_SECONDS))
    return response


def field_error(lang: str, field: str) -> str:
    """The reader form's own words for a refused ``field`` (a key of FIELD_ERRORS), in ``lang``."""
    with use_language(lang):
        return gettext(FIELD_ERRORS[field])


def refused_field(lang: str, error: FieldError) -> str:
    """A refused field of a reader's form in ``lang``: the form's own words for that field,
    else the words of the refusal's code (service.web.refusals), never the English."""
    with use_language(lang):
        return gettext(FIELD_ERRORS[error.field]) if error.field in FIELD_ERRORS else refusal(error)


def csrf_cookie(request: Request, settings: Settings) -> tuple[str, str]:
    """(cookie name, cookie value) for the form about to be shown: the reader's own, or a new one."""
    name = csrf_cookie_name(settings)
    value = request.cookies.get(name)
    if value and 20 <= len(value) <= 64:
        return name, value
    return name, new_csrf_cookie()


def refuse_csrf(request: Request, settings: Settings, form: Mapping[str, list[str]], lang: str) -> Response | None:
    """None when the form's CSRF token, cookie and origin agree; else the 403 page naming the problem."""
    problem = csrf_problem(
        settings,
        request.headers,
        request.cookies.get(csrf_cookie_name(settings)),
        first(form, CSRF_FIELD),
        utcnow(),
    )
    if problem is None:
        return None
    return notice(lang, 403, "csrf", reason=problem)


async def throttled(lang: str, what: str, call: Callable[..., None], *args: Any) -> Response | None:
    """Run ``call(*args)`` (a unit of work behind the hourly limits) in the thread pool:
    None when done, else the page that says why not, nothing stored: 429 with
    ``Retry-After`` over a limit, 503 when the limits cannot be checked."""
    try:
        await run_in_threadpool(call, *args)
    except redis.RedisError:
        # The limits cannot be checked: refuse (nothing stored) rather than let a flood through.
        log.warning("%s refused: the rate-limit store is unreachable", what)
        return notice(lang, 503, "refused", REFUSALS["unavailable"])
    except signup.Refused as refused:
        minutes = max(1, round(refused.retry_after / 60))
        log.info("%s refused: %s", what, refused.reason)  # never the address
        response = notice(lang, 429, "refused", REFUSALS[refused.reason], minutes=minutes)
        response.headers["Retry-After"] = str(int(refused.retry_after) + 1)
        return response
    return None
