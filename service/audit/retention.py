"""Audit retention: rows older than BANTIN_AUDIT_RETENTION_DAYS go to a file, then out of the table.

Never silently dropped (issue 22 §3): a chunk of the oldest rows is written as JSON Lines
to ``var/audit/audit-<first id>-<last id>.jsonl`` and flushed to disk first; then, in one
transaction, an ``audit_exports`` row records the file, its SHA-256 and the last id it
holds, and exactly those rows are deleted. The tables' triggers (migration 0024) refuse
a DELETE of any row above the last exported id, so this is the only way rows leave. A
run that fails after the file is written leaves the rows in place; the next writes them
again to a file of the same name.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.audit.log import plain, record
from service.db.engine import UnitOfWork
from service.db.models import AuditEvent, AuditExport
from service.private_files import private_directory, private_file

CHUNK_ROWS = 10_000
COLUMNS = ("id", "at", "actor_kind", "actor_id", "actor_name", "client", "action", "object_type", "object_id")


def as_record(event: AuditEvent) -> dict[str, Any]:
    """One audit row as plain JSON-ready data (the file's lines, the console's CSV)."""
    row: dict[str, Any] = {name: plain(getattr(event, name)) for name in COLUMNS}
    return {**row, "before": event.before, "after": event.after}


@dataclass(frozen=True)
class Exported:
    """One file written: where, how many rows, the last id it holds."""

    path: Path
    rows: int
    through_id: int


def export_chunk(
    session: Session, directory: Path, cutoff: datetime, now: datetime, limit: int = CHUNK_ROWS
) -> Exported | None:
    """Write up to ``limit`` of the oldest rows dated before ``cutoff`` to a file, record it,
    delete them; None when no row is that old. The caller commits (or nothing is deleted)."""
    events = list(
        session.scalars(select(AuditEvent).where(AuditEvent.at < cutoff).order_by(AuditEvent.id).limit(limit))
    )
    if not events:
        return None
    # Only a run of consecutive ids below the first row still kept: rows are dated when
    # their change is made, so a later id can rarely carry an earlier instant.
    kept_from = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= cutoff))
    events = [e for e in events if kept_from is None or e.id < kept_from]
    if not events:
        return None
    first, last = events[0].id, events[-1].id
    path = private_directory(directory) / f"audit-{first:012d}-{last:012d}.jsonl"
    body = "".join(json.dumps(as_record(e), ensure_ascii=False, sort_keys=True) + "\n" for e in events).encode()
    with private_file(path).open("wb") as file:
        file.write(body)
        file.flush()
        os.fsync(file.fileno())
    session.add(
        AuditExport(at=now, through_id=last, rows=len(events), path=str(path), sha256=hashlib.sha256(body).hexdigest())
    )
    session.flush()
    session.execute(delete(AuditEvent).where(AuditEvent.id <= last).execution_options(synchronize_session=False))
    record(session, "audit.export", "audit_export", last, None, {"rows": len(events), "file": path.name}, now)
    return Exported(path, len(events), last)


def export_old(
    unit_of_work: UnitOfWork, directory: Path, now: datetime, retention_days: float, max_chunks: int = 10
) -> list[Exported]:
    """Up to ``max_chunks`` chunks, one transaction each; the files written, oldest first."""
    cutoff = now - timedelta(days=retention_days)
    written: list[Exported] = []
    for _ in range(max_chunks):
        with unit_of_work() as session:
            exported = export_chunk(session, directory, cutoff, now)
        if exported is None:
            break
        written.append(exported)
    return written
