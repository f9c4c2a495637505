"""Telling staff: one announcement per event, one delivery per person × channel (decision 0042).

The announcement's ``source_key`` names the event ("staff:review:41:requested"), unique, and
a delivery is unique per announcement × subscription, where a staff member has one
subscription per channel: so a person is told once per event and channel, however often
the event is handled. The person who acts is never told of their own act. Planned in the
transaction of the change; sent after commit as delivery batches (retries, the log).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.db.models import User
from service.deliveries.planning import Named, plan_announcement
from service.staff.addresses import subscriptions_of


def user_of(session: Session, label: str | None) -> User | None:
    """The console user an actor label ("user:<name>") names; None for a token, the CLI, or one gone."""
    if not label or not label.startswith("user:"):
        return None
    return session.scalars(select(User).where(User.username == label[5:], User.active.is_(True))).one_or_none()


def display_name(session: Session, label: str | None) -> str:
    """How a person is named in a notification: their display name, else the label itself."""
    user = user_of(session, label)
    return user.display_name if user is not None else (label or "bantin")


def tell(
    session: Session,
    *,
    kind: str,
    source_key: str,
    users: Iterable[User],
    payload: Mapping[str, Any],
    now: datetime,
    settings: Settings,
    actor_label: str | None = None,
) -> list[str]:
    """Plan a ``kind`` announcement to every address of ``users`` except the actor's own;
    the new delivery ids (none when nobody has an address, or when planned before)."""
    ids = [u.id for u in users if actor_label is None or f"user:{u.username}" != actor_label]
    subscriptions = subscriptions_of(session, ids)
    if not subscriptions:
        return []
    return plan_announcement(
        session,
        source_key=source_key,
        event_type=kind,
        payload=dict(payload),
        now=now,
        settings=settings,
        audience=Named(tuple(subscriptions)),
    )
