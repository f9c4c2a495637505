"""deliveries.remote_id: the id a destination gave what it received (a Facebook Page post)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('remote_id', sa.String(length=200), nullable=True))
    # Partial: only the rows a destination gave an id, so a withdrawal's look-up stays small;
    # built without blocking the deliveries' writes on PostgreSQL.
    create_index_on_existing_table(
        'ix_deliveries_remote',
        'deliveries',
        ['subscription_id'],
        postgresql_where=sa.text('remote_id IS NOT NULL'),
        sqlite_where=sa.text('remote_id IS NOT NULL'),
    )


def downgrade() -> None:
    drop_index_on_existing_table('ix_deliveries_remote', 'deliveries')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('remote_id')
