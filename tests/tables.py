"""Emptying the database between tests, for the unit tests' SQLite file and the integration
tests' in-process databases alike."""

from __future__ import annotations


def empty_all_tables() -> None:
    """Delete every row of this process's database, children first."""
    from service.db.engine import get_engine
    from service.db.models import Base

    with get_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
