"""public pages: the cover's caption; indexes for category listings and "what changed last"

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The caption shown under an article's cover image.
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_caption', sa.String(length=300), nullable=True))
    # A category page looks its articles up by category; the primary key starts with article_id.
    create_index_on_existing_table('ix_article_categories_category', 'article_categories', ['category_id', 'article_id'])
    # Every listing's Last-Modified is max(updated_at): one index probe instead of a scan.
    create_index_on_existing_table('ix_articles_updated_at', 'articles', ['updated_at'])


def downgrade() -> None:
    drop_index_on_existing_table('ix_articles_updated_at', 'articles')
    drop_index_on_existing_table('ix_article_categories_category', 'article_categories')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('image_caption')
