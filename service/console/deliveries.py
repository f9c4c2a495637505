"""Console: the delivery log (admins only): filter, replay one delivery, recover a subscriber's failures.

Replay and recover are ``service.deliveries.replay`` (the API's), so the rows keep their
ids (the ``webhook-id``) and are sent by the relay after commit.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Response
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError

from config.settings import get_settings
from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, safe_next, see_other
from service.console.forms import filter_error
from service.console.security import AdminUser, CheckedForm
from service.console.times import parse_local_time
from service.db.engine import session_scope
from service.db.models import DeliveryStatus
from service.db.types import utcnow
from service.deliveries.queries import announcements_by_id, list_deliveries
from service.deliveries.replay import recover, replay
from service.errors import Conflict, NotFound
from service.i18n import N_, gettext
from service.inputs import DeliveryId, Instant, PageNumber, RowId, SearchText

router = console_router()
PAGE_SIZE = 25
FILTERS = ("announcement", "subscription", "status")
_ROW_ID: TypeAdapter[int] = TypeAdapter(RowId)
_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)
_DELIVERY_ID: TypeAdapter[str] = TypeAdapter(DeliveryId)
NOT_AN_ID = N_("Phải là một số nguyên dương (mã số hiện trong nhật ký).")


def parse_row_id(raw: str) -> tuple[int | None, str | None]:
    """An id typed into a filter: (the id, None), (None, None) when empty, or (None, the message)."""
    raw = raw.strip()
    if not raw:
        return None, None
    try:
        return _ROW_ID.validate_python(raw, strict=False), None
    except ValidationError:
        return None, gettext(NOT_AN_ID)


def id_or_text(raw: str) -> tuple[int | None, str | None]:
    """A log filter as typed: a number is an id (as the log's links write them, "#12" too),
    anything else a part of a title or an address to look for; (None, None) when empty."""
    raw = raw.strip()
    if not raw:
        return None, None
    row_id, error = parse_row_id(raw.removeprefix("#"))
    return (row_id, None) if error is None else (None, raw)


def parse_since(raw: str) -> tuple[datetime | None, str | None]:
    """A local date and time (dd/mm/yyyy HH:mm, or the browser's ``yyyy-mm-ddTHH:MM``) in
    BANTIN_TIMEZONE, as an aware instant in the past; or the message saying what is wrong
    (service.console.times: a day that does not exist is named as such).
    """
    raw = raw.strip()
    if not raw:
        return None, gettext("Chọn ngày giờ bắt đầu.")
    when, error = parse_local_time(raw, get_settings().zone)
    if when is None:
        return None, error
    if when > utcnow():
        return None, gettext("Thời điểm này chưa đến; chọn một thời điểm trong quá khứ.")
    return when, None


def _log_page(
    user: SignedIn,
    values: dict[str, str],
    page: int,
    errors: dict[str, str] | None = None,
    status_code: int | None = None,
) -> HTMLResponse:
    errors = dict(errors or {})
    announcement_id, title = id_or_text(values.get("announcement", ""))
    subscription_id, address = id_or_text(values.get("subscription", ""))
    status = values.get("status", "")
    error = filter_error(status, {s.value for s in DeliveryStatus})
    if error:
        errors["status"] = error
    chosen = DeliveryStatus(status) if status and not error else None
    rows: list[Any] = []
    total = 0
    announcements: dict[int, Any] = {}
    if not (errors.keys() & {"announcement", "subscription", "status"}):
        with session_scope() as session:
            rows, total = list_deliveries(
                session,
                announcement_id=announcement_id,
                subscription_id=subscription_id,
                status=chosen,
                title=title,
                address=address,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
            announcements = announcements_by_id(session, (d.announcement_id for d, _ in rows))
    query = urlencode({k: values.get(k, "") for k in FILTERS})
    return html_page(
        "deliveries.html",
        user,
        status_code=status_code or (422 if errors else 200),
        zone=get_settings().timezone,
        values={**values, "status": chosen.value if chosen else ""},
        errors=errors,
        deliveries=rows,
        announcements=announcements,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        query=query,
        here=f"/console/deliveries?{query}&page={page}",
        statuses=[s.value for s in DeliveryStatus],
        subscription_id=subscription_id,
    )


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries(
    user: AdminUser,
    announcement: SearchText = "",  # an id or title words: bounded, no control characters
    subscription: SearchText = "",  # an id or part of an address (PostgreSQL refuses NUL in text)
    status: str = "",
    page: PageNumber = 1,
) -> Response:
    """The delivery log, newest first, PAGE_SIZE a page, each delivery with its attempts.

    Filters: an announcement by its id or part of its article's title, a subscriber by its
    id or part of its address, a status. An unknown status is a 422 with the message by its field.
    """
    values = {"announcement": announcement, "subscription": subscription, "status": status}
    return _log_page(user, values, page)


@router.post("/deliveries/recover", response_class=HTMLResponse)
def recover_failed(user: AdminUser, posted: CheckedForm) -> Response:
    """Send again a subscriber's failed deliveries created since a local time (``recover``); 303 to its log.

    422 with the message by the field for a missing or malformed subscriber id or time;
    404 for an unknown subscriber; 409 while it is paused or disabled.
    """
    values = {"recover_subscription": posted.get("subscription", ""), "since": posted.get("since", "")}
    errors: dict[str, str] = {}
    subscription_id, error = parse_row_id(values["recover_subscription"])
    if error or subscription_id is None:
        errors["recover_subscription"] = error or gettext("Nhập mã người nhận.")
    since, error = parse_since(values["since"])
    if error:
        errors["since"] = error
    # The log below the form shows that subscriber's deliveries when the id is one.
    values["subscription"] = str(subscription_id) if subscription_id else ""
    if errors or subscription_id is None or since is None:
        return _log_page(user, values, 1, errors, 422)
    try:
        with session_scope() as session:
            ids = recover(session, subscription_id, since, utcnow())
            message = gettext(
                "Đã xếp lại %(count)s tin lỗi của người nhận #%(id)s.", count=len(ids), id=subscription_id
            )
            push_flash(session, user.session_id, message)
    except Conflict:
        message = gettext("Người nhận đang tạm dừng hoặc bị tắt; hãy bật lại rồi gửi lại.")
        return _log_page(user, values, 1, {"since": message}, 409)
    return see_other(f"/console/deliveries?{urlencode({'subscription': subscription_id})}")


@router.post("/deliveries/{delivery_id}/replay", response_class=HTMLResponse)
def replay_one(delivery_id: str, user: AdminUser, posted: CheckedForm) -> Response:
    """Send one delivery again with the same ``webhook-id`` (``replay``); 303 back to the page it came from.

    404 for an id that is not one of ours; while a batch is sending it, the page says so.
    """
    try:
        checked = _DELIVERY_ID.validate_python(delivery_id)
    except ValidationError:
        raise NotFound(f"delivery {delivery_id!r} does not exist") from None
    back = safe_next(posted.get("next"))
    try:
        with session_scope() as session:
            replay(session, checked, utcnow())
            push_flash(session, user.session_id, gettext("Đã xếp tin %(id)s vào hàng gửi lại.", id=checked))
    except Conflict:
        with session_scope() as session:
            push_flash(session, user.session_id, gettext("Tin %(id)s đang được gửi; thử lại sau ít giây.", id=checked))
    return see_other(back)
