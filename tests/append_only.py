"""Emptying the audit log between tests the only way the database allows (migration 0024):
an ``audit_exports`` row covering every id, then the DELETE the triggers now accept. The
export rows themselves stay (nothing may delete them); no test counts them absolutely."""

from __future__ import annotations

from sqlalchemy import Connection, text


def empty_audit_log(connection: Connection) -> None:
    """Delete every audit row, recorded as exported to nowhere (tests only)."""
    connection.execute(
        text(
            "INSERT INTO audit_exports (at, through_id, rows, path, sha256) "
            "SELECT CURRENT_TIMESTAMP, MAX(id), COUNT(*), 'tests: emptied between tests', '' "
            "FROM audit_events HAVING COUNT(*) > 0"
        )
    )
    connection.execute(text("DELETE FROM audit_events"))
