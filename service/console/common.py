"""What every console page module shares: the route class, the router factory, page and redirect helpers.

Each area of the console (articles, subscribers, deliveries, calendar, media) is a module
with its own ``router = console_router()``; ``service/api/app.py`` includes them all.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from service.articles.editorial import NotPermitted, WrongState
from service.auth.sessions import SignedIn, pop_flash
from service.console.request_errors import PATH_STATUS, validation_message, validation_status
from service.console.security import CsrfRefused, EnrolmentRequired, Forbidden, LoginRequired
from service.console.templating import render
from service.db.engine import session_scope
from service.errors import NotFound
from service.i18n import N_, gettext


class ConsoleRoute(APIRoute):
    """Turns the console's signals into pages: sign-in redirect, 403 and 404 as HTML, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped to turn the console's signals into pages.

        LoginRequired → 303 to the sign-in page; EnrolmentRequired → 303 to two-factor
        enrolment; CsrfRefused and Forbidden → an HTML 403;
        the editorial policy's refusals → 403 (NotPermitted) or 409 (WrongState) with its sentence;
        NotFound → an HTML 404; a malformed path or query (RequestValidationError) → an HTML
        page naming the field and the reason: 404 when the path is malformed (``/articles/abc``
        names no page), else 422.
        """
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as signal:
                return RedirectResponse(f"/console/login?next={signal.next_path}", status_code=303)
            except EnrolmentRequired:
                return RedirectResponse("/console/account/two-factor", status_code=303)
            except CsrfRefused:
                return _error_page(N_("Yêu cầu bị từ chối"), CSRF_MESSAGE, 403)
            except Forbidden:
                return _error_page(N_("Không có quyền"), FORBIDDEN_MESSAGE, 403)
            except NotPermitted as refused:
                # The editorial policy's sentence (decision 0026): which rule, not just "no".
                return _shown_error(gettext(N_("Không có quyền")), refused.message, 403)
            except WrongState as refused:
                return _shown_error(gettext(N_("Không làm được việc này")), refused.message, 409)
            except NotFound:
                return _error_page(N_("Không tìm thấy"), N_("Không có trang hoặc bài này."), 404)
            except RequestValidationError as error:
                errors = list(error.errors())
                status = validation_status(errors)
                title = N_("Không tìm thấy") if status == PATH_STATUS else N_("Yêu cầu không hợp lệ")
                return _shown_error(gettext(title), validation_message(errors), status)

        return console_handler


THROTTLE_DOWN_MESSAGE = N_("Tạm thời không đăng nhập được (máy chủ Redis không trả lời). Hãy thử lại sau ít phút.")
# Messages are msgids (Vietnamese): translate with service.i18n.gettext where they are shown.
CSRF_MESSAGE = N_(
    "Biểu mẫu đã hết hạn hoặc không gửi từ bảng điều khiển này, nên không có gì được thay đổi. "
    "Hãy tải lại trang và thử lại."
)
FORBIDDEN_MESSAGE = N_("Tài khoản của bạn không có quyền làm việc này.")


def _error_page(title: str, message: str, status_code: int) -> HTMLResponse:
    """The console's error page; ``title`` and ``message`` are msgids, shown in the request's language."""
    return _shown_error(gettext(title), gettext(message), status_code)


def _shown_error(title: str, message: str, status_code: int) -> HTMLResponse:
    """The console's error page with ``title`` and ``message`` already in the request's language."""
    # Every variable base.html reads, so the page renders under StrictUndefined.
    body = render("error.html", user=None, flash=[], title=title, message=message)
    return HTMLResponse(body, status_code=status_code)


def console_router() -> APIRouter:
    """A router under ``/console`` whose errors become HTML pages (see ConsoleRoute), kept out of OpenAPI."""
    return APIRouter(prefix="/console", tags=["console"], route_class=ConsoleRoute, include_in_schema=False)


def html_page(name: str, user: SignedIn | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Template ``name`` as an HTML response, with the signed-in user's pending flash messages."""
    flash: list[str] = []
    if user is not None:
        with session_scope() as session:
            flash = pop_flash(session, user.session_id)
    return HTMLResponse(render(name, user=user, flash=flash, **context), status_code=status_code)


def see_other(path: str) -> RedirectResponse:
    """303 to ``path``: the answer to every successful form POST (post/redirect/get)."""
    return RedirectResponse(path, status_code=303)


def safe_next(value: str | None) -> str:
    """``value`` when it is one of our own console pages, else the dashboard.

    Only paths under /console/: "//evil.example" and "https://…" would be open redirects.
    """
    if value and value.startswith("/console/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/"
