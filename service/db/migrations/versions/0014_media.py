"""media: images uploaded from the console, by content hash

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'media',
        sa.Column('sha256', sa.String(length=64), primary_key=True),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_by', sa.String(length=120), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
    )
    # The console lists the latest uploads to choose a cover image from.
    op.create_index('ix_media_created_at', 'media', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_media_created_at', table_name='media')
    op.drop_table('media')
