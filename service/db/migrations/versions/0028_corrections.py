"""article_corrections, articles.withdrawal_reason: corrections and withdrawal reasons (issue 22 §2, decision 0043)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table
from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'article_corrections',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('article_id', BigId, sa.ForeignKey('articles.id'), nullable=False),
        sa.Column('wrong_text', sa.Text(), nullable=False),
        sa.Column('right_text', sa.Text(), nullable=False),
        sa.Column('apology', sa.Boolean(), nullable=False),
        sa.Column('published_at', UTCDateTime(), nullable=False),
        sa.Column('published_by', sa.String(length=120), nullable=True),
        sa.Column('revision_id', BigId, nullable=True),
    )
    op.create_index('ix_article_corrections_recency', 'article_corrections', ['published_at', 'id'])
    op.create_index('ix_article_corrections_article', 'article_corrections', ['article_id', 'published_at'])
    # Nullable, no default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table('articles') as batch:
        batch.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
    create_index_on_existing_table('ix_outbox_events_article', 'outbox_events', ['article_id', 'type'])


def downgrade() -> None:
    drop_index_on_existing_table('ix_outbox_events_article', 'outbox_events')
    with op.batch_alter_table('articles') as batch:
        batch.drop_column('withdrawal_reason')
    op.drop_index('ix_article_corrections_article', table_name='article_corrections')
    op.drop_index('ix_article_corrections_recency', table_name='article_corrections')
    op.drop_table('article_corrections')
