"""deliveries: pages half filled by inserts, so the broker hand-off is a HOT update (decision 0052)

A large audience's rows are planned without a lease and stamped with one when their batch
is handed to the broker (decision 0044). That stamp changes only ``lease_until``, which no
index holds, so PostgreSQL can write it as a heap-only (HOT) update — but only if the new
row version fits on the same page, and pages filled to 100 % by the planning INSERT have
no room: every stamp wrote a new version elsewhere and an entry in each of the table's four
indexes. At fillfactor 50, measured with 20,000 subscribers (bench.fanout, pg_stat_statements):
the stamp's WAL records 122,410 → 23,228, its buffer hits 505,608 → 271,744, its time
504 → 324 ms; the table after VACUUM 10.9 → 11.9 MiB (its dead versions, written either
way, dominate). PostgreSQL only: SQLite has no fill factor.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 23:55:00
"""

from __future__ import annotations

from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('ALTER TABLE deliveries SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('ALTER TABLE deliveries RESET (fillfactor)')
