"""deliveries.remote_id: the id a destination gave what it received (a Facebook Page post)

Revision ID: 0026
Revises: 0020
Create Date: 2026-12-07 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('remote_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('remote_id')
