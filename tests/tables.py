"""Emptying the database between tests, for the unit tests' SQLite file and the integration
tests' in-process databases alike."""

from __future__ import annotations


def empty_all_tables() -> None:
    """Delete every row of this process's database, children first; the audit log's rows
    through ``tests.append_only`` (its triggers refuse a plain DELETE, decision 0036)."""
    from service.db.engine import get_engine
    from service.db.models import APPEND_ONLY_TABLES, Base
    from tests.append_only import empty_audit_log

    with get_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in APPEND_ONLY_TABLES:
                connection.execute(table.delete())
        empty_audit_log(connection)
