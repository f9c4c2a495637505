"""Console: where a staff member is told of review steps (every signed-in user; decision 0042).

Their e-mail, and a Telegram chat linked by sending the desk's bot ``/start <code>`` with a
one-time code this page makes (shown once, valid LINK_CODE_MINUTES). Thin over
``service.staff.addresses``.
"""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import HTMLResponse

from config.settings import get_settings
from service.audit.log import record
from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, see_other
from service.console.security import CheckedForm, CurrentUser
from service.db.engine import session_scope
from service.db.models import User
from service.db.types import utcnow
from service.errors import InvalidField
from service.i18n import gettext
from service.staff.addresses import LINK_CODE_MINUTES, addresses_of, new_link_code, set_email, unlink_telegram

router = console_router()
PATH = "/console/account/notifications"


def _page(user: SignedIn, values: dict[str, str], errors: dict[str, str], code: str | None = None,
          status_code: int = 200) -> HTMLResponse:  # fmt: skip
    with session_scope() as session:
        addresses = addresses_of(session, user.user_id)
    settings = get_settings()
    return html_page(
        "notifications.html",
        user,
        status_code=status_code,
        addresses=addresses,
        values={"email": addresses.email or "", **values},
        errors=errors,
        code=code,
        minutes=LINK_CODE_MINUTES,
        bot=settings.telegram_bot_username,
        bot_ready=bool(settings.telegram_bot_token.get_secret_value()),
    )


@router.get("/account/notifications", response_class=HTMLResponse)
def notifications(user: CurrentUser) -> Response:
    """The person's addresses, and the Telegram link's state."""
    return _page(user, {}, {})


@router.post("/account/notifications/email", response_class=HTMLResponse)
def save_email(user: CurrentUser, posted: CheckedForm) -> Response:
    """Set or (emptied) remove the e-mail; 422 with the typed value for one that is not an address."""
    typed = posted.get("email", "")
    with session_scope() as session:
        person = session.get(User, user.user_id)
        assert person is not None
        before = person.email
        try:
            saved = set_email(session, person, typed, utcnow())
        except InvalidField:
            session.rollback()
            error = gettext("Không phải địa chỉ e-mail hợp lệ.")
            return _page(user, {"email": typed}, {"email": error}, status_code=422)
        record(session, "user.notifications", "user", user.user_id, {"email": before}, {"email": saved})
        words = gettext("Sẽ báo tới %(email)s.", email=saved) if saved else gettext("Đã bỏ địa chỉ e-mail nhận báo.")
        push_flash(session, user.session_id, words)
    return see_other(PATH)


@router.post("/account/notifications/telegram-code", response_class=HTMLResponse)
def make_code(user: CurrentUser, posted: CheckedForm) -> Response:
    """A new one-time code, shown on this answer only (never stored in a form it can be read from)."""
    with session_scope() as session:
        code = new_link_code(session, user.user_id, utcnow())
    return _page(user, {}, {}, code=code)


@router.post("/account/notifications/telegram-unlink", response_class=HTMLResponse)
def unlink(user: CurrentUser, posted: CheckedForm) -> Response:
    """Stop telling the person in their linked chat."""
    with session_scope() as session:
        unlink_telegram(session, user.user_id, utcnow())
        record(session, "user.notifications", "user", user.user_id, {"telegram": "linked"}, {"telegram": None})
        push_flash(session, user.session_id, gettext("Đã ngừng báo qua Telegram."))
    return see_other(PATH)
