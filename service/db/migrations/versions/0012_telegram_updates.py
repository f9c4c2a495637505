"""telegram bot: the update ids already handled

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'telegram_updates',
        sa.Column('update_id', sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
    )
    # The purge finds old ids by when they came (a new table: a plain index is fine).
    op.create_index('ix_telegram_updates_received_at', 'telegram_updates', ['received_at'])


def downgrade() -> None:
    op.drop_index('ix_telegram_updates_received_at', table_name='telegram_updates')
    op.drop_table('telegram_updates')
