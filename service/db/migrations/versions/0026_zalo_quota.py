"""zalo_quota: the Official Account's promotion quota per window (issue 21 §1, decision 0040)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'zalo_quota',
        sa.Column('window_start', UTCDateTime(), primary_key=True),
        sa.Column('window_end', UTCDateTime(), nullable=False),
        sa.Column('allowance', sa.Integer(), nullable=True),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.Column('exhausted_at', UTCDateTime(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('zalo_quota')
