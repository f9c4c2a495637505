"""deliveries: autovacuum at 2 % dead rows, not 20 % (issue 24 §2, decision 0044)

A million-subscriber announcement writes each delivery row four times (planned, handed
to the broker, claimed, recorded): 3,000,000 dead row versions per announcement. With
PostgreSQL's default scale factor (0.2) autovacuum waits for a fifth of the table to be
dead — 200,000 rows at a million, 6,000,000 with a month of daily announcements kept —
while every claim and sweep walks past them. Storage parameters on the table travel with
it through dumps and restores, which a server setting in deploy/ would not. PostgreSQL
only; SQLite has no autovacuum.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

SETTINGS = (
    'autovacuum_vacuum_scale_factor = 0.02',
    'autovacuum_vacuum_insert_scale_factor = 0.02',
    'autovacuum_analyze_scale_factor = 0.02',
)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in ('deliveries', 'delivery_attempts'):
        op.execute(f'ALTER TABLE {table} SET ({", ".join(SETTINGS)})')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    names = ', '.join(setting.split(' = ')[0] for setting in SETTINGS)
    for table in ('deliveries', 'delivery_attempts'):
        op.execute(f'ALTER TABLE {table} RESET ({names})')
