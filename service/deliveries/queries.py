"""Reading the delivery log."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus


def list_deliveries(
    session: Session,
    *,
    announcement_id: int | None = None,
    subscription_id: int | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[Delivery, list[DeliveryAttempt]]], int]:
    """A page of deliveries, newest first, each with its attempts in order, and the total matching."""
    query = select(Delivery)
    if announcement_id is not None:
        query = query.where(Delivery.announcement_id == announcement_id)
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(Delivery.status == status.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    deliveries = list(
        session.scalars(query.order_by(Delivery.created_at.desc(), Delivery.id).limit(limit).offset(offset))
    )
    attempts: dict[str, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        for attempt in session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(attempts)).order_by(DeliveryAttempt.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [(d, attempts[d.id]) for d in deliveries], total
