"""Console: the development outbox (admins only), every message kept there rendered as its
reader would see it: the HTML part in a sandboxed frame (no script, no form, links open
in a new tab), the plain-text part, the headers. Mailpit's and Django's file backend's
idea; the files are ``service.channels.mail_outbox``'s."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import HTMLResponse

from config.settings import get_settings
from service.channels import mail_outbox, mail_relay
from service.console.common import console_router, html_page
from service.console.security import AdminUser
from service.errors import NotFound

router = console_router()
# Links in a kept mail open in a new tab, not inside the frame (where the sandbox would hold them).
_NEW_TAB = '<base target="_blank">'


@router.get("/outbox", response_class=HTMLResponse)
def outbox(user: AdminUser) -> Response:
    """The newest kept messages, newest first, the newest one shown below the list."""
    settings = get_settings()
    names = mail_outbox.names(settings)
    messages = [found for found in (mail_outbox.read(settings, name) for name in names) if found is not None]
    return html_page(
        "outbox.html",
        user,
        messages=messages,
        shown=_framed(messages[0]) if messages else None,
        route=mail_relay.route(settings),
        directory=str(mail_outbox.outbox_dir(settings)),
    )


@router.get("/outbox/{name}", response_class=HTMLResponse)
def outbox_message(user: AdminUser, name: str) -> Response:
    """One kept message; a 404 page for a name that is not an outbox file's."""
    settings = get_settings()
    found = mail_outbox.read(settings, name)
    if found is None:
        raise NotFound(f"outbox message {name!r} does not exist")
    return html_page("outbox_message.html", user, shown=_framed(found))


def _framed(message: mail_outbox.OutboxMessage) -> dict[str, object]:
    html = message.html.replace("<head>", "<head>" + _NEW_TAB, 1) if message.html else ""
    return {"message": message, "srcdoc": html}
