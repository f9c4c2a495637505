"""subscriptions: pages half filled by inserts, so a success's health write is a HOT update
(decision 0052)

Every success writes its subscription's health (``last_success_at``, kept to the minute,
and ``failing_since``), columns no index holds. PostgreSQL writes such an update as
heap-only (HOT: no new index entries) only if the new row version fits on the same page,
and pages filled to 100 % by their INSERTs had no room: every health write went to another
page with an entry in each of the table's five indexes — for a million subscribers, a
million of those per announcement. Measured with bench.fanout and pg_stat_statements: see
decision 0052.
Storage parameters travel with the table through dumps and restores; they apply to pages
filled from now on. PostgreSQL only: SQLite has no fill factor.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 00:40:00
"""

from __future__ import annotations

from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

TABLES = ('subscriptions',)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'ALTER TABLE {table} SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'ALTER TABLE {table} RESET (fillfactor)')
