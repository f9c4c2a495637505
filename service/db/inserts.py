"""``INSERT … ON CONFLICT DO NOTHING``, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(session: Session, table: Any) -> Any:
    """An INSERT that skips rows a unique constraint already holds, instead of failing.

    The building block of get-or-create under concurrency: insert what may be missing,
    ignoring what a concurrent transaction added first, then read. On PostgreSQL a
    conflicting row another transaction has not committed yet makes this wait for it,
    so the read that follows sees it.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)
