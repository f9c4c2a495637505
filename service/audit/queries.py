"""Reading the audit log: the console's filters (person, action, object, time), a page of
rows newest first, and every matching row for a CSV file, read in bounded chunks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.audit.retention import COLUMNS, as_record
from service.db.models import AuditEvent

OBJECT_TYPES = (
    "article",
    "user",
    "token",
    "subscription",
    "subscriber",
    "key_date",
    "category",
    "menu",
    "audit_export",
)
CSV_CHUNK = 1_000


@dataclass(frozen=True)
class AuditFilter:
    """What the console filters by; None is "any". ``person``: a username, token name or
    operator login, exactly; ``since``/``until``: instants, ``until`` excluded."""

    person: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def statement(self) -> Select[tuple[AuditEvent]]:
        """The matching rows, newest first (each condition served by an index of migration 0024)."""
        query = select(AuditEvent)
        if self.person:
            query = query.where(AuditEvent.actor_name == self.person)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEvent.object_id == self.object_id)
        if self.since:
            query = query.where(AuditEvent.at >= self.since)
        if self.until:
            query = query.where(AuditEvent.at < self.until)
        return query.order_by(AuditEvent.id.desc())


def audit_page(session: Session, chosen: AuditFilter, limit: int, offset: int) -> tuple[list[AuditEvent], int]:
    """A page of matching rows, newest first, and how many match in all."""
    statement = chosen.statement()
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    return list(session.scalars(statement.limit(limit).offset(offset))), total


def csv_chunks(session: Session, chosen: AuditFilter) -> Iterator[str]:
    """Every matching row as CSV (RFC 4180, a header line first), newest first, CSV_CHUNK rows
    a read by keyset on the id; ``before`` and ``after`` as JSON text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, "before", "after"])
    below: int | None = None
    while True:
        statement = chosen.statement()
        if below is not None:
            statement = statement.where(AuditEvent.id < below)
        events = list(session.scalars(statement.limit(CSV_CHUNK)))
        for event in events:
            row = as_record(event)
            json_cells = [
                json.dumps(row[k], ensure_ascii=False) if row[k] is not None else "" for k in ("before", "after")
            ]
            writer.writerow([row[k] if row[k] is not None else "" for k in COLUMNS] + json_cells)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(events) < CSV_CHUNK:
            return
        below = events[-1].id
