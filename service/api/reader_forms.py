"""What every reader page shares (/subscribe, the confirmation landing, preferences): the
words of notices, refusals and field errors, the page frame (``noindex``, ``no-store``,
the security headers), the form body and its CSRF check, and the categories to choose from.

The routes are ``service/api/readers.py``; the rules live in ``service.readers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from config.settings import Settings, get_settings
from service.articles.categories import public_categories
from service.db.engine import read_scope
from service.db.models import Category
from service.db.types import utcnow
from service.errors import FieldError
from service.i18n import N_, gettext, language, use_language
from service.site.meta import error_head
from service.site.navigation import current_navigation
from service.web.forms import CSRF_FIELD, csrf_cookie_name, csrf_problem, new_csrf_cookie
from service.web.http import security_headers
from service.web.refusals import refusal
from service.web.templating import branding, render

HTML = "text/html; charset=utf-8"
MAX_FORM_BYTES = 16 * 1024


def page_language(request: Request) -> str:
    """The language of the page being answered, "vi" or "en"."""
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
        N_("Cảm ơn bạn. Mỗi thư đều có liên kết để đổi lựa chọn hoặc hủy đăng ký."),
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


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted form's fields (at most 200); an empty form when the body is over MAX_FORM_BYTES."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200)


def first(form: Mapping[str, list[str]], name: str, default: str = "") -> str:
    """The first value of ``name`` in ``form``, else ``default``."""
    return (form.get(name) or [default])[0]


def reader_page(
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


def notice(lang: str, status: int, key: str, body: str | None = None, link: bool = False, **variables: Any) -> Response:
    """The notice ``key`` of NOTICES in ``lang``; ``body`` (a msgid) replaces its text, filled from ``variables``."""
    title, text = NOTICES[key]
    with use_language(lang):
        shown = gettext(body or text, **variables)
    return reader_page("reader_notice.html", status, lang, title, body=shown, link=link)


def field_error(lang: str, field: str) -> str:
    """The words of FIELD_ERRORS[``field``] in ``lang``."""
    with use_language(lang):
        return gettext(FIELD_ERRORS[field])


def refused_words(lang: str, error: FieldError) -> str:
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
    """The 403 notice naming why the POST may not proceed (``csrf_problem``); None when it may."""
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


def category_choices(chosen: Sequence[str] = ()) -> list[tuple[str, str]]:
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
