"""Zalo Official Account webhook: the events already handled

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'zalo_events',
        sa.Column('key', sa.String(length=64), primary_key=True),
        sa.Column('event_name', sa.String(length=64), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('zalo_events')
