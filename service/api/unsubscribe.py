"""One-click unsubscribe for e-mail recipients (RFC 8058), no login."""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.db.engine import session_scope
from service.db.types import utcnow
from service.subscriptions.service import unsubscribe

router = APIRouter(tags=["unsubscribe"])
PAGE = "<!doctype html><html lang=vi><head><meta charset=utf-8><title>{title}</title></head><body>{body}</body></html>"


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def confirm_page(token: str) -> HTMLResponse:
    """A page with a button: a GET never unsubscribes, because mail scanners follow links."""
    form = (
        f'<form method="post" action="/unsubscribe/{html.escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<p>Bạn muốn ngừng nhận bản tin qua thư điện tử?</p>"
        '<button type="submit">Hủy đăng ký</button></form>'
    )
    return HTMLResponse(PAGE.format(title="Hủy đăng ký", body=form))


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def one_click(token: str) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058): POST to the link from the ``List-Unsubscribe`` header."""
    with session_scope() as session:
        subscription = unsubscribe(session, token, utcnow())
    if subscription is None:
        return HTMLResponse(PAGE.format(title="Không tìm thấy", body="<p>Liên kết không hợp lệ.</p>"), status_code=404)
    return HTMLResponse(PAGE.format(title="Đã hủy đăng ký", body="<p>Bạn đã hủy đăng ký nhận bản tin.</p>"))
