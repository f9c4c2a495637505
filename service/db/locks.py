"""Named locks held until the end of the caller's transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def transaction_lock(session: Session, name: str) -> None:
    """Serialise work on ``name`` across processes and machines (PostgreSQL advisory lock).

    SQLite serialises writers by itself and serves one machine; there it does nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
