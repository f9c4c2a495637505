"""SQL statements that differ between PostgreSQL and the embedded SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(session: Session, table: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for the session's database.

    Used where a unique constraint is the guard against doing a thing twice (an
    announcement's ``source_key``, a delivery per announcement × subscription, a
    reminder per key date × occurrence × offset), and for get-or-create under
    concurrency: insert what may be missing, ignoring what a concurrent transaction
    added first, then read. On PostgreSQL a conflicting row that another transaction
    has not committed yet makes this wait for it, so the read that follows sees it.
    Other dialects get a plain INSERT.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)
