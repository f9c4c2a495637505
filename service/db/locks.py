"""Named locks held until the end of the caller's transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def transaction_lock(session: Session, name: str) -> None:
    """Serialise work on ``name`` across processes and machines (PostgreSQL advisory lock):
    the way to make a read-check-write hold where the row to lock may not exist yet.

    On SQLite it does nothing: every write transaction already holds the database's one
    write lock from its BEGIN IMMEDIATE (decision 0027), and SQLite serves one machine.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
