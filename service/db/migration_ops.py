"""Operations that migrations share: indexes on tables that may already be large.

``CREATE INDEX`` takes a lock that blocks every write to the table until the index is
built — minutes on a deliveries log of millions of rows, with every worker stalled. On
PostgreSQL an index on a table that an earlier revision created is therefore built
``CONCURRENTLY``, which cannot run inside a transaction: Alembic's ``autocommit_block``
commits what the migration did so far and runs the statement on its own. A failed
concurrent build leaves an INVALID index behind, so it is dropped first when present and
a re-run of the migration starts clean. SQLite (the single-machine default) has no
concurrent build and no other writers during ``bantin up``'s migration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic import op
from sqlalchemy import TextClause


def create_index_on_existing_table(
    name: str, table: str, columns: Sequence[str | TextClause], *, unique: bool = False, **dialect_options: Any
) -> None:
    """Create index ``name`` on ``table(columns)`` without blocking writes on PostgreSQL.

    ``columns`` are names or SQL expressions (``sa.text("id DESC")``); ``dialect_options``
    go to ``op.create_index`` as they are (``postgresql_using="gin"``, ``postgresql_ops``).
    """
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(name, table, list(columns), unique=unique, **dialect_options)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(name, table, list(columns), unique=unique, postgresql_concurrently=True, **dialect_options)


def drop_index_on_existing_table(name: str, table: str) -> None:
    """Drop index ``name`` from ``table`` without blocking reads and writes on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
