"""Recording one audit row: :func:`record`, called by the domain functions that change things.

A row says when (UTC), who and from where (:mod:`service.audit.context`), the action (a
code from :data:`ACTIONS`), the object (type and id) and, of the fields that changed,
their values before and after. Secrets never reach it: a field named in
:data:`SECRET_FIELDS` is written as :data:`MASK` (that it changed is kept, what it was is
not), as GitLab's audit events do for passwords and tokens.

The row is added to the caller's session, so it commits with the change it describes or
not at all (the shell owns the transaction, as for every domain function).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.audit.context import current
from service.db.models import AuditEvent
from service.db.types import utcnow

MASK = "***"
# Field names whose values are secrets wherever they appear (a hash is a secret too: it
# can be attacked offline, and a TOTP secret or recovery code opens an account).
SECRET_FIELDS = frozenset(
    {"password", "password_hash", "token", "token_hash", "secret", "totp_secret", "recovery_codes", "code"}
)

# Every action code a row can carry, by object; the console's filter offers these.
ACTIONS: tuple[str, ...] = (
    "article.create",
    "article.update",
    "article.restore",
    "article.publish",
    "article.schedule",
    "article.unpublish",
    "article.withdraw",
    "article.correct",
    "article.submit",
    "article.approve",
    "article.return",
    "article.approve_stage",
    "workflow.update",
    "user.notifications",
    "user.create",
    "user.password",
    "user.disable",
    "user.two_factor_enrol",
    "user.two_factor_reset",
    "user.recovery_codes",
    "two_factor.policy",
    "sign_in",
    "sign_in.failed",
    "sign_in.two_factor_failed",
    "sign_out",
    "token.create",
    "token.revoke",
    "subscription.create",
    "subscription.update",
    "subscription.delete",
    "subscription.rotate_secret",
    "subscriber.export",
    "subscriber.forget",
    "category.list",
    "category.menu",
    "key_date.create",
    "key_date.update",
    "key_date.delete",
    "audit.export",
)


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: instants and dates in ISO 8601, enums by value, sets sorted."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def fields(row: object, names: Iterable[str]) -> dict[str, Any]:
    """The named attributes of ``row`` as plain values: a snapshot to pass as ``before`` or ``after``."""
    return {name: plain(getattr(row, name)) for name in names}


def changed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Of two snapshots, the fields whose values differ, each side masked where secret.

    A created object has no ``before`` (every field of ``after`` is kept), a deleted one no
    ``after``.
    """
    old, new = dict(before or {}), dict(after or {})
    names = [n for n in dict.fromkeys([*old, *new]) if before is None or after is None or old.get(n) != new.get(n)]

    def masked(side: dict[str, Any]) -> dict[str, Any]:
        return {n: (MASK if n in SECRET_FIELDS and side[n] is not None else plain(side[n])) for n in names if n in side}

    return masked(old), masked(new)


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: int | str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Add the audit row of ``action`` on (``object_type``, ``object_id``) by the current actor.

    ``action``: one of :data:`ACTIONS` (ValueError otherwise: a typo would hide rows from
    the console's filter). ``before``/``after``: snapshots (see :func:`fields`); only
    the fields that differ are kept. ``now``: the change's own instant when it has one.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    who = current()
    old, new = changed(before, after)
    event = AuditEvent(
        at=now or utcnow(),
        actor_kind=who.kind,
        actor_id=who.ref,
        actor_name=who.name,
        client=(who.client or "")[:64] or None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:200],
        before=old or None,
        after=new or None,
    )
    session.add(event)
    return event
