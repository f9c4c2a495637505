"""SQL statements that differ between PostgreSQL and the embedded SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import any_, bindparam, insert
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


def among(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:values)``.

    One bound array instead of one parameter per value: for a batch of hundreds of ids
    SQLAlchemy's expanding IN rebuilds, and PostgreSQL parses and plans, a statement
    of that many parameters on every call — a measurable part of a delivery batch's
    CPU (bench/README.md, fan-out).
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def _upsert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {dialect}")


def insert_adding(session: Session, table: Any, key: Sequence[str], column: str) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET column = column + excluded.column``.

    A counter row created on first use and moved by a delta in one statement, for
    PostgreSQL and SQLite alike: the row lock it takes on PostgreSQL makes concurrent
    writers of one counter wait for each other's commit, so no increment is lost.
    Raises ``NotImplementedError`` on another dialect.
    """
    statement = _upsert(session, table)
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={column: table.c[column] + statement.excluded[column]}
    )


def insert_or_increment(session: Session, table: Any, key: Sequence[str], column: str) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET column = column + 1``: the inserted
    value is the start of a new row, an existing row grows by one (same locking as
    :func:`insert_adding`). Raises ``NotImplementedError`` on another dialect."""
    return _upsert(session, table).on_conflict_do_update(index_elements=list(key), set_={column: table.c[column] + 1})
