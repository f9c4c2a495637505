"""occurrence drafts: the article drafted from an occurrence of a key date

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'occurrence_drafts',
        sa.Column('key_date_id', sa.String(length=80), sa.ForeignKey('key_dates.id', ondelete='CASCADE'), nullable=False),
        sa.Column('occurrence_date', sa.Date(), nullable=False),
        sa.Column('article_id', BigId, sa.ForeignKey('articles.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key_date_id', 'occurrence_date'),
    )
    op.create_index('ix_occurrence_drafts_article_id', 'occurrence_drafts', ['article_id'])


def downgrade() -> None:
    op.drop_index('ix_occurrence_drafts_article_id', table_name='occurrence_drafts')
    op.drop_table('occurrence_drafts')
