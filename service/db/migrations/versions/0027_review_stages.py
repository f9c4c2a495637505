"""review_stages, review_stage_members, article_reviews.stage, users.email, staff_channels,
staff_link_codes: review in stages, and staff are told (issue 22 §1, decision 0042)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'review_stages',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('position', sa.Integer(), nullable=False, unique=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=True),
    )
    op.create_table(
        'review_stage_members',
        sa.Column('stage_id', BigId, sa.ForeignKey('review_stages.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_id', BigId, sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
    )
    # A constant server default: PostgreSQL 11+ adds it without rewriting the table.
    with op.batch_alter_table('article_reviews') as batch:
        batch.add_column(sa.Column('stage', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table(
        'staff_channels',
        sa.Column('user_id', BigId, sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('channel', sa.String(length=16), primary_key=True),
        sa.Column(
            'subscription_id', BigId, sa.ForeignKey('subscriptions.id', ondelete='CASCADE'), nullable=False,
            unique=True,
        ),
    )
    op.create_table(
        'staff_link_codes',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('user_id', BigId, sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False, unique=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
    )
    op.create_index('ix_staff_link_codes_user', 'staff_link_codes', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_staff_link_codes_user', table_name='staff_link_codes')
    op.drop_table('staff_link_codes')
    op.drop_table('staff_channels')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email')
    with op.batch_alter_table('article_reviews') as batch:
        batch.drop_column('stage')
    op.drop_table('review_stage_members')
    op.drop_table('review_stages')
