"""articles per status and category, published_at on category links, the site's generation

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 21:40:00

Filled from the articles here; from then on the domain code keeps them in step with
every article write (service/articles/derived.py). Articles written by processes of the
previous release between this migration and their restart are not counted: run
``bantin db recount`` once the roles have rolled.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table
from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table('article_categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE article_categories SET published_at = "
        "(SELECT a.published_at FROM articles a WHERE a.id = article_categories.article_id AND a.status = 'published')"
    )
    # A category page: one backward range of this index (only listed links are in it).
    create_index_on_existing_table(
        'ix_article_categories_listing',
        'article_categories',
        ['category_id', 'published_at', 'article_id'],
        postgresql_where=sa.text('published_at IS NOT NULL'),
        sqlite_where=sa.text('published_at IS NOT NULL'),
    )
    op.create_table(
        'article_counts',
        sa.Column('status', sa.String(length=16), primary_key=True),
        sa.Column('category_id', BigId, primary_key=True, autoincrement=False),
        sa.Column('articles', sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO article_counts (status, category_id, articles) "
        "SELECT status, 0, count(*) FROM articles GROUP BY status "
        "UNION ALL "
        "SELECT a.status, l.category_id, count(*) FROM articles a "
        "JOIN article_categories l ON l.article_id = a.id GROUP BY a.status, l.category_id"
    )
    op.create_table(
        'site_generation',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO site_generation (id, generation) VALUES (1, 1)")
    if op.get_bind().dialect.name == 'postgresql':
        # Every link's date was just written: plan category pages by the new values at once.
        op.execute("ANALYZE article_categories")


def downgrade() -> None:
    op.drop_table('site_generation')
    op.drop_table('article_counts')
    drop_index_on_existing_table('ix_article_categories_listing', 'article_categories')
    with op.batch_alter_table('article_categories', schema=None) as batch_op:
        batch_op.drop_column('published_at')
