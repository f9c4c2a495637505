"""ix_articles_created_by: a writer's start page lists their own articles, last changed first

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_index_on_existing_table('ix_articles_created_by', 'articles', ['created_by', 'updated_at'])


def downgrade() -> None:
    drop_index_on_existing_table('ix_articles_created_by', 'articles')
