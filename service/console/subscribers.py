"""Console: subscribers (admins only). Thin: each handler calls the subscription function the API calls.

Secrets are shown once, in the answer to the POST that made them (creation, rotation),
with ``Cache-Control: no-store``; they never go into a flash message, which is stored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Depends, Response
from fastapi.responses import HTMLResponse

from config.settings import get_settings
from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, see_other
from service.console.forms import filter_error
from service.console.security import AdminUser, CheckedForm, ticked
from service.console.subscriber_form import (
    CHANNEL_LABELS,
    CHANNELS,
    EVENTS,
    FORGOTTEN,
    LOCALES,
    SubscriberForm,
)
from service.db.engine import session_scope
from service.db.models import Subscription, SubscriptionStatus
from service.db.types import utcnow
from service.deliveries.queries import announcements_by_id, list_deliveries
from service.errors import Conflict, InvalidField
from service.i18n import gettext
from service.inputs import PageNumber, RowId
from service.subscriptions.schemas import SubscriptionUpdate
from service.subscriptions.service import (
    create_subscription,
    delete_subscription,
    get_subscription,
    list_subscriptions,
    listed_target,
    rotate_secret,
    send_test_message,
    update_subscription,
)

router = console_router()
PAGE_SIZE = 25
RECENT_DELIVERIES = 20
# Statuses an admin filters by (WebSub's "pending" is not listed here).
STATUSES = (SubscriptionStatus.ACTIVE.value, SubscriptionStatus.PAUSED.value, SubscriptionStatus.DISABLED.value)
NO_STORE = {"Cache-Control": "no-store"}


PostedEvents = Annotated[list[str], Depends(ticked("events"))]


def _choices() -> dict[str, Any]:
    return {
        "channels": CHANNELS,
        "channel_labels": CHANNEL_LABELS,
        "events": EVENTS,
        "locales": LOCALES,
        "statuses": STATUSES,
    }


@router.get("/subscribers", response_class=HTMLResponse)
def subscribers(
    user: AdminUser,
    channel: str = "",
    status: str = "",
    page: PageNumber = 1,
) -> Response:
    """Subscribers, PAGE_SIZE a page, oldest first, filtered by channel and status.

    An unknown channel or status is a 422: the filters again with the message by that one, no list.

    Credential-bearing targets (chat webhook URLs) are cut to their last four characters, as the API lists them.
    """
    errors = {
        name: error
        for name, error in (("channel", filter_error(channel, CHANNELS)), ("status", filter_error(status, STATUSES)))
        if error
    }
    chosen_channel = "" if "channel" in errors else channel
    chosen_status = "" if "status" in errors else status
    with session_scope() as session:
        rows: list[Subscription] = []
        total = 0
        if not errors:
            rows, total = list_subscriptions(
                session,
                status=chosen_status or None,
                channel=chosen_channel or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        listed = [(s, listed_target(s)) for s in rows]
        return html_page(
            "subscribers.html",
            user,
            status_code=422 if errors else 200,
            errors=errors,
            rows=listed,
            total=total,
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            channel=chosen_channel,
            status=chosen_status,
            **_choices(),
        )


def _new_form(user: SignedIn, form: SubscriberForm, status_code: int = 200) -> HTMLResponse:
    return html_page("subscriber_new.html", user, status_code=status_code, form=form, **_choices())


@router.get("/subscribers/new", response_class=HTMLResponse)
def new_subscriber(user: AdminUser, channel: str = "webhook") -> Response:
    """The add form for one channel (``?channel=``; webhook when unknown), asking for that channel's target."""
    return _new_form(user, SubscriberForm.empty(channel))


@router.post("/subscribers/new", response_class=HTMLResponse)
def create(user: AdminUser, posted: CheckedForm, events: PostedEvents) -> Response:
    """Add a subscriber through ``create_subscription``; nothing is stored on any error.

    422 with the typed values and a message by the field (the schema's or the channel's
    refusal, a private address included); 409 when the recipient asked to be forgotten.
    A webhook's secret is in this answer only; other channels 303 to the subscriber's page.
    """
    form = SubscriberForm.posted(posted, events)
    data = form.to_create()
    if data is None:
        return _new_form(user, form, 422)
    try:
        with session_scope() as session:
            subscription, secret = create_subscription(session, data, utcnow(), get_settings())
            subscription_id = subscription.id
            if secret is None:
                push_flash(session, user.session_id, gettext("Đã thêm người nhận; hãy gửi tin thử để kiểm tra kênh."))
    except InvalidField as exc:
        form.refuse(exc)
        return _new_form(user, form, 422)
    except Conflict:
        form.errors["target"] = gettext(FORGOTTEN)
        return _new_form(user, form, 409)
    if secret is None:
        return see_other(f"/console/subscribers/{subscription_id}")
    return _secret_page(user, subscription_id, secret, created=True)


def _secret_page(user: SignedIn, subscription_id: int, secret: str, *, created: bool) -> HTMLResponse:
    response = html_page(
        "subscriber_secret.html", user, subscription_id=subscription_id, secret=secret, created=created
    )
    response.headers.update(NO_STORE)
    return response


def _detail(user: SignedIn, subscription: Subscription, error: str = "", status_code: int = 200) -> HTMLResponse:
    return html_page(
        "subscriber.html",
        user,
        status_code=status_code,
        sub=subscription,
        error=error,
        **_recent(subscription.id),
        **_choices(),
    )


def _recent(subscription_id: int) -> dict[str, Any]:
    with session_scope() as session:
        rows, total = list_deliveries(session, subscription_id=subscription_id, limit=RECENT_DELIVERIES)
        announcements = announcements_by_id(session, (d.announcement_id for d, _ in rows))
    return {"deliveries": rows, "delivery_total": total, "announcements": announcements}


@router.get("/subscribers/{subscription_id}", response_class=HTMLResponse)
def subscriber(subscription_id: RowId, user: AdminUser) -> Response:
    """One subscriber: target in full (never its secret), filters, status, actions, recent deliveries with attempts."""
    with session_scope() as session:
        subscription = get_subscription(session, subscription_id)
    return _detail(user, subscription)


def _set_status(subscription_id: int, user: SignedIn, status: str, message: str) -> Response:
    with session_scope() as session:
        change = SubscriptionUpdate.model_validate({"status": status})
        update_subscription(session, subscription_id, change, utcnow(), get_settings())
        push_flash(session, user.session_id, message)
    return see_other(f"/console/subscribers/{subscription_id}")


@router.post("/subscribers/{subscription_id}/pause", response_class=HTMLResponse)
def pause(subscription_id: RowId, user: AdminUser, _: CheckedForm) -> Response:
    """Stop sending to this subscriber until resumed (deliveries wait); 303 to its page."""
    return _set_status(subscription_id, user, "paused", gettext("Đã tạm dừng gửi tin tới người nhận này."))


@router.post("/subscribers/{subscription_id}/resume", response_class=HTMLResponse)
def resume(subscription_id: RowId, user: AdminUser, _: CheckedForm) -> Response:
    """Send again (a disabled subscriber too, its failure state cleared); 303 to its page."""
    return _set_status(subscription_id, user, "active", gettext("Đã bật lại việc gửi tin tới người nhận này."))


@router.get("/subscribers/{subscription_id}/remove", response_class=HTMLResponse)
def confirm_remove(subscription_id: RowId, user: AdminUser) -> Response:
    """Ask before removing: what goes with the subscriber (its delivery log)."""
    with session_scope() as session:
        subscription = get_subscription(session, subscription_id)
        return html_page(
            "subscriber_remove.html", user, sub=subscription, target=listed_target(subscription), **_choices()
        )


@router.post("/subscribers/{subscription_id}/remove", response_class=HTMLResponse)
def remove(subscription_id: RowId, user: AdminUser, _: CheckedForm) -> Response:
    """Delete the subscriber and its deliveries (``delete_subscription``); 303 to the list."""
    with session_scope() as session:
        delete_subscription(session, subscription_id)
        push_flash(session, user.session_id, gettext("Đã xóa người nhận #%(id)s.", id=subscription_id))
    return see_other("/console/subscribers")


@router.post("/subscribers/{subscription_id}/rotate-secret", response_class=HTMLResponse)
def rotate(subscription_id: RowId, user: AdminUser, _: CheckedForm) -> Response:
    """A new webhook signing secret, shown once in this answer; 409 for a channel without one."""
    try:
        with session_scope() as session:
            secret = rotate_secret(session, subscription_id, utcnow(), get_settings())[1]
    except Conflict:
        with session_scope() as session:
            subscription = get_subscription(session, subscription_id)
        return _detail(user, subscription, gettext("Chỉ người nhận qua webhook mới có khóa ký."), 409)
    return _secret_page(user, subscription_id, secret, created=False)


@router.post("/subscribers/{subscription_id}/test", response_class=HTMLResponse)
def send_test(subscription_id: RowId, user: AdminUser, _: CheckedForm) -> Response:
    """Send a test message (a delivery row like any other, ``send_test_message``); 303 to the
    subscriber's page, where it appears among the deliveries. 409 unless the subscriber is active.
    """
    try:
        with session_scope() as session:
            delivery_id = send_test_message(session, subscription_id, utcnow(), get_settings())
            push_flash(session, user.session_id, gettext("Đã xếp tin thử vào hàng gửi (mã %(id)s).", id=delivery_id))
    except Conflict:
        with session_scope() as session:
            subscription = get_subscription(session, subscription_id)
        message = gettext("Người nhận đang tạm dừng hoặc bị tắt; hãy bật lại trước khi gửi tin thử.")
        return _detail(user, subscription, message, 409)
    return see_other(f"/console/subscribers/{subscription_id}")
