"""digests: one row per reader subscription and period, completed periods, what a reader is owed since

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_since', UTCDateTime(), nullable=True))
    op.create_table(
        'digests',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('subscription_id', BigId, sa.ForeignKey('subscriptions.id', ondelete='CASCADE'), nullable=False),
        sa.Column('frequency', sa.String(length=8), nullable=False),
        sa.Column('period_start', UTCDateTime(), nullable=False),
        sa.Column('covers_from', UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('article_ids', sa.JSON(), nullable=False),
        sa.Column('delivery_id', sa.String(length=40), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('subscription_id', 'period_start', name='uq_digests_subscription_period'),
    )
    op.create_index('ix_digests_delivery', 'digests', ['delivery_id'])
    op.create_table(
        'digest_periods',
        sa.Column('frequency', sa.String(length=8), primary_key=True),
        sa.Column('period_start', UTCDateTime(), primary_key=True),
        sa.Column('completed_at', UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('digest_periods')
    op.drop_index('ix_digests_delivery', table_name='digests')
    op.drop_table('digests')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('digest_since')
