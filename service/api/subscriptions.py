"""Admin endpoints for subscriptions and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Response, status
from pydantic import BaseModel

from service.api.auth import Caller, require_scope
from service.api.deps import AppSettings
from service.api.errors import ADMIN_ONLY, CONFLICT
from service.api.idempotency import Once
from service.api.routing import api_router
from service.auth.tokens import Scope
from service.db.engine import read_scope, session_scope
from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription
from service.db.types import utcnow
from service.deliveries.queries import list_deliveries
from service.deliveries.replay import recover, replay
from service.inputs import DeliveryId, Instant, Limit, Offset, RowId
from service.subscriptions.schemas import Channel, SubscriptionCreate, SubscriptionUpdate
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

router = api_router(prefix="/api/v1", tags=["subscriptions"], responses=ADMIN_ONLY)
Admin = Annotated[Caller, Depends(require_scope(Scope.ADMIN))]


class SubscriptionOut(BaseModel):
    id: int
    channel: str
    target: str
    events: list[str]
    categories: list[str]
    locale: str
    options: dict[str, Any]
    # each, daily or weekly (a reader's choice; only "each" sends until digests exist)
    frequency: str
    status: str
    status_reason: str | None
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # Only in the answer to POST (and to rotate-secret): never listed, never logged.
    secret: str | None = None

    @classmethod
    def of(cls, sub: Subscription, *, secret: str | None = None, mask: bool = False) -> SubscriptionOut:
        """The API view of a subscription; ``mask`` cuts a credential-bearing target URL to its
        last four characters (for lists); ``secret`` is shown once, when created or rotated.
        """
        target = listed_target(sub) if mask else sub.target
        return cls(
            id=sub.id,
            channel=sub.channel,
            target=target,
            events=sub.events,
            categories=sub.categories,
            locale=sub.locale,
            options=sub.options,
            frequency=sub.frequency,
            status=sub.status,
            status_reason=sub.status_reason,
            failing_since=sub.failing_since,
            last_success_at=sub.last_success_at,
            created_at=sub.created_at,
            updated_at=sub.updated_at,
            secret=secret,
        )


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    total: int


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @classmethod
    def of(cls, a: DeliveryAttempt) -> AttemptOut:
        """The API view of one delivery attempt."""
        return cls(attempted_at=a.attempted_at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms)


class DeliveryOut(BaseModel):
    id: str
    announcement_id: int
    subscription_id: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery, attempts: list[DeliveryAttempt]) -> DeliveryOut:
        """The API view of a delivery and its attempts; ``next_attempt_at`` only while it is pending."""
        pending = d.status in {DeliveryStatus.PENDING, DeliveryStatus.SENDING}
        return cls(
            id=d.id,
            announcement_id=d.announcement_id,
            subscription_id=d.subscription_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if pending else None,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            attempt_log=[AttemptOut.of(a) for a in attempts],
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut, responses=CONFLICT)
def create(
    payload: SubscriptionCreate, caller: Admin, response: Response, settings: AppSettings, once: Once
) -> SubscriptionOut:
    """Subscribe a channel; a webhook's signing secret (`whsec_…`) is in this answer only (and its replays)."""
    with once.unit_of_work(caller) as session:
        subscription, secret = create_subscription(session, payload, utcnow(), settings)
        body = SubscriptionOut.of(subscription, secret=secret)
        location = f"/api/v1/subscriptions/{body.id}"
        return once.answer(session, response, body, 201, location=location, subscription_id=body.id)


@router.get("/subscriptions", response_model=SubscriptionPage)
def list_(
    _: Admin,
    status_: Annotated[str | None, Query(alias="status", pattern="^(active|paused|disabled)$")] = None,
    channel: Channel | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SubscriptionPage:
    """Subscriptions (WebSub subscribers excluded), oldest first, targets masked."""
    with read_scope() as session:
        rows, total = list_subscriptions(session, status=status_, channel=channel, limit=limit, offset=offset)
        return SubscriptionPage(items=[SubscriptionOut.of(s, mask=True) for s in rows], total=total)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def read(subscription_id: RowId, _: Admin) -> SubscriptionOut:
    """One subscription, target shown in full."""
    with read_scope() as session:
        return SubscriptionOut.of(get_subscription(session, subscription_id))


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def patch(subscription_id: RowId, payload: SubscriptionUpdate, _: Admin, settings: AppSettings) -> SubscriptionOut:
    """Change a subscription; a new target is validated as on creation."""
    with session_scope() as session:
        return SubscriptionOut.of(update_subscription(session, subscription_id, payload, utcnow(), settings))


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove(subscription_id: RowId, _: Admin) -> Response:
    """Delete a subscription and its deliveries."""
    with session_scope() as session:
        delete_subscription(session, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/subscriptions/{subscription_id}/rotate-secret", response_model=SubscriptionOut, responses=CONFLICT)
def rotate(
    subscription_id: RowId, caller: Admin, settings: AppSettings, response: Response, once: Once
) -> SubscriptionOut:
    """New signing secret; both are sent during `BANTIN_SECRET_ROTATION_OVERLAP_SECONDS`."""
    with once.unit_of_work(caller) as session:
        subscription, secret = rotate_secret(session, subscription_id, utcnow(), settings)
        body = SubscriptionOut.of(subscription, secret=secret)
        return once.answer(session, response, body, 200, subscription_id=subscription_id)


class SentTestMessage(BaseModel):
    delivery_id: str


@router.post(
    "/subscriptions/{subscription_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SentTestMessage,
    responses=CONFLICT,
)
def send_test(
    subscription_id: RowId, caller: Admin, settings: AppSettings, response: Response, once: Once
) -> SentTestMessage:
    """Send a test message (`subscription.test`) to this subscription alone; 409 unless it is active.

    It is a delivery like any other: follow it in `GET /api/v1/deliveries?subscription=…`.
    """
    with once.unit_of_work(caller) as session:
        body = SentTestMessage(delivery_id=send_test_message(session, subscription_id, utcnow(), settings))
        return once.answer(session, response, body, 202, subscription_id=subscription_id)


@router.post("/subscriptions/{subscription_id}/recover", responses=CONFLICT)
def recover_failed(
    subscription_id: RowId, since: Instant, caller: Admin, response: Response, once: Once
) -> dict[str, int]:
    """Send again every failed delivery of this subscription created since `since`."""
    with once.unit_of_work(caller) as session:
        ids = recover(session, subscription_id, since, utcnow())
        return once.answer(session, response, {"requeued": len(ids)}, 200, subscription_id=subscription_id)


@router.get("/deliveries", response_model=DeliveryPage)
def deliveries(
    _: Admin,
    announcement: RowId | None = None,
    subscription: RowId | None = None,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DeliveryPage:
    """The delivery log, each delivery with its attempts; every filter is optional."""
    with read_scope() as session:
        rows, total = list_deliveries(
            session,
            announcement_id=announcement,
            subscription_id=subscription,
            status=status_,
            limit=limit,
            offset=offset,
        )
        return DeliveryPage(items=[DeliveryOut.of(d, a) for d, a in rows], total=total)


@router.post(
    "/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=CONFLICT,
)
def replay_delivery(delivery_id: DeliveryId, caller: Admin, response: Response, once: Once) -> DeliveryOut:
    """Send one delivery again now, with the same `webhook-id`."""
    with once.unit_of_work(caller) as session:
        body = DeliveryOut.of(replay(session, delivery_id, utcnow()), [])
        return once.answer(session, response, body, 202, subscription_id=body.subscription_id)
