"""The audit log is append-only where it is stored, on both databases (issue 22 §3): an
UPDATE or a DELETE of an audit row is refused by the database itself, whoever sends it,
and rows leave only through retention, which writes them to a file first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.integration.conftest import in_process_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with in_process_database(request.param, tmp_path):
        yield request.param


def _three_rows() -> list[int]:
    from service.audit.context import acting
    from service.audit.log import record
    from service.db.engine import session_scope
    from service.db.types import utcnow

    now = utcnow()
    with acting("user", client="203.0.113.7", name="lan"), session_scope() as session:
        events = [
            record(session, "token.create", "token", n, None, {"name": f"t{n}"}, now - timedelta(days=days))
            for n, days in ((1, 800), (2, 740), (3, 1))
        ]
        session.flush()
        return [e.id for e in events]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'token.revoke' WHERE id = :id",
        "UPDATE audit_events SET actor_name = 'someone else'",
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_audit_row(database: str, statement: str) -> None:
    from service.db.engine import get_engine

    ids = _three_rows()
    with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as connection:
        connection.execute(text(statement), {"id": ids[0]})
    with get_engine().connect() as connection:
        rows = connection.execute(text("SELECT id, action, actor_name, client FROM audit_events ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(i, "token.create", "lan", "203.0.113.7") for i in ids]


def test_retention_exports_old_rows_to_a_file_before_deleting_only_them(database: str, tmp_path: Path) -> None:
    from service.audit.retention import export_old
    from service.db.engine import get_engine, session_scope
    from service.db.models import AuditEvent, AuditExport
    from service.db.types import utcnow

    ids = _three_rows()
    written = export_old(session_scope, tmp_path / "audit", utcnow(), retention_days=730)

    assert [(w.rows, w.through_id) for w in written] == [(2, ids[1])]
    lines = [json.loads(line) for line in written[0].path.read_text().splitlines()]
    assert [(r["id"], r["action"], r["after"]) for r in lines] == [
        (ids[0], "token.create", {"name": "t1"}),
        (ids[1], "token.create", {"name": "t2"}),
    ]
    assert written[0].path.stat().st_mode & 0o777 == 0o600
    with session_scope() as session:
        kept = session.execute(select(AuditEvent.id, AuditEvent.action).order_by(AuditEvent.id)).all()
        assert [tuple(r) for r in kept][:1] == [(ids[2], "token.create")]
        assert [r.action for r in kept][1:] == ["audit.export"]  # the export is itself audited
        assert session.scalar(select(func.count()).select_from(AuditExport)) == 1
    # The rows above the export stay undeletable, and so does the record of the export.
    for statement in (
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_exports",
        "UPDATE audit_exports SET rows = 0",
    ):
        with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as connection:
            connection.execute(text(statement), {"id": ids[2]})
