"""users.totp_*, recovery_codes: two-factor sign-in for staff (issue 22 §4)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds the columns without rewriting the table.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('totp_enabled_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('totp_pending_secret', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.create_table(
        'recovery_codes',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('user_id', BigId, sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False, unique=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
    )
    op.create_index('ix_recovery_codes_user', 'recovery_codes', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_recovery_codes_user', table_name='recovery_codes')
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('totp_last_step')
        batch.drop_column('totp_pending_secret')
        batch.drop_column('totp_enabled_at')
        batch.drop_column('totp_secret')
