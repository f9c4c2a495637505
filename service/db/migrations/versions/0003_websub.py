"""websub

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:56:26.694913
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table
from service.db.types import UTCDateTime


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', UTCDateTime(), nullable=True))
    # subscriptions may hold a million rows by now: no write lock while the index builds.
    create_index_on_existing_table('ix_subscriptions_channel_topic', 'subscriptions', ['channel', 'topic'])



def downgrade() -> None:
    drop_index_on_existing_table('ix_subscriptions_channel_topic', 'subscriptions')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('topic')

