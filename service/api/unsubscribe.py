"""One-click unsubscribe for e-mail recipients (RFC 8058), no login.

The only state-changing POST without a CSRF token: RFC 8058 has the mail client POST
``List-Unsubscribe=One-Click`` to the URL itself, which carries its own secret token.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from service.db.engine import session_scope
from service.db.types import utcnow
from service.site.meta import error_head
from service.site.navigation import current_navigation
from service.subscriptions.service import UNSUBSCRIBE_TOKEN, unsubscribe
from service.web.http import security_headers
from service.web.templating import branding, render

router = APIRouter(tags=["unsubscribe"])
HTML = "text/html; charset=utf-8"


def _page(status_code: int, title: str, body: str, action: str | None = None) -> Response:
    site = branding()
    text = render(
        "reader_unsubscribe.html",
        head=error_head(site, title),
        navigation=current_navigation(),
        title=title,
        body=body,
        action=action,
    )
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", **security_headers(site)}
    return Response(text, status_code=status_code, media_type=HTML, headers=headers)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def confirm_page(token: str) -> Response:
    """A page with a button: a GET never unsubscribes, because mail scanners follow links."""
    if not UNSUBSCRIBE_TOKEN.match(token):
        return _page(404, "Không tìm thấy", "Liên kết không hợp lệ. · This link is not valid.")
    return _page(
        200,
        "Hủy đăng ký",
        "Bạn muốn ngừng nhận bản tin qua thư điện tử? · Stop receiving the newsletter by e-mail?",
        f"/unsubscribe/{token}",
    )


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def one_click(token: str) -> Response:
    """One-click unsubscribe (RFC 8058): POST to the link from the ``List-Unsubscribe`` header."""
    with session_scope() as session:
        subscription = unsubscribe(session, token, utcnow())
    if subscription is None:
        return _page(404, "Không tìm thấy", "Liên kết không hợp lệ. · This link is not valid.")
    return _page(
        200,
        "Đã hủy đăng ký",
        "Bạn đã hủy đăng ký nhận bản tin. · You have unsubscribed from the newsletter.",
    )
