"""readers subscribe themselves: sign-up requests, consent events, suppressions, frequency

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table
from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frequency', sa.String(length=8), nullable=False, server_default='each'))
    # Sign-up, export and forget look a subscriber up by channel and address.
    create_index_on_existing_table('ix_subscriptions_channel_target', 'subscriptions', ['channel', 'target'])
    op.create_table(
        'subscribe_requests',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('subscription_id', BigId, sa.ForeignKey('subscriptions.id', ondelete='CASCADE'), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False, unique=True),
        sa.Column('token_salt', sa.String(length=64), nullable=False),
        sa.Column('domain', sa.String(length=255), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('frequency', sa.String(length=8), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('consent_version', sa.String(length=32), nullable=False),
        sa.Column('client_address', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
    )
    op.create_index('ix_subscribe_requests_subscription_id', 'subscribe_requests', ['subscription_id'])
    op.create_index(
        'ix_subscribe_requests_domain_pending', 'subscribe_requests', ['domain', 'used_at', 'expires_at']
    )
    op.create_table(
        'consent_events',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('subscription_id', BigId, sa.ForeignKey('subscriptions.id', ondelete='CASCADE'), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('text_version', sa.String(length=32), nullable=True),
        sa.Column('client_address', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
    )
    op.create_index('ix_consent_events_subscription_id', 'consent_events', ['subscription_id'])
    op.create_table(
        'suppressions',
        sa.Column('target_hash', sa.String(length=64), primary_key=True),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('suppressions')
    op.drop_index('ix_consent_events_subscription_id', table_name='consent_events')
    op.drop_table('consent_events')
    op.drop_index('ix_subscribe_requests_domain_pending', table_name='subscribe_requests')
    op.drop_index('ix_subscribe_requests_subscription_id', table_name='subscribe_requests')
    op.drop_table('subscribe_requests')
    drop_index_on_existing_table('ix_subscriptions_channel_target', 'subscriptions')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('frequency')
