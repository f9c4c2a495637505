"""staff console: users, sessions, reviews, revisions, who changed an article, diacritic-free search column

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table
from service.db.types import UTCDateTime
from service.text import search_key


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', BigId, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('last_login_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('staff_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.Column('flash', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_staff_sessions_user', ['user_id'], unique=False)

    op.create_table('article_reviews',
    sa.Column('id', BigId, nullable=False),
    sa.Column('article_id', BigId, nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=True),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('article_revisions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('article_id', BigId, nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('restored_from_id', BigId, nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_article_revisions_article', 'article_revisions', ['article_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_article_reviews_article', 'article_reviews', ['article_id', 'requested_at'], unique=False)
    op.create_index('uq_article_reviews_one_in_review', 'article_reviews', ['article_id'], unique=True,
                    postgresql_where=sa.text("status = 'in_review'"), sqlite_where=sa.text("status = 'in_review'"))

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('updated_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))

    articles = sa.table('articles', sa.column('id', BigId), sa.column('title', sa.Text), sa.column('summary', sa.Text),
                        sa.column('author', sa.String), sa.column('search_text', sa.Text))
    connection = op.get_bind()
    for row in connection.execute(sa.select(articles.c.id, articles.c.title, articles.c.summary, articles.c.author)):
        text = " ".join(p for p in (row.title, row.summary, row.author) if p)
        connection.execute(articles.update().where(articles.c.id == row.id).values(search_text=search_key(text)))

    create_index_on_existing_table('ix_articles_recency', 'articles',
                                   [sa.text('coalesce(published_at, created_at) DESC'), sa.text('id DESC')])
    if connection.dialect.name == 'postgresql':
        # Trigrams make `LIKE '%dang%'` use an index; pg_trgm is a trusted extension
        # (PostgreSQL 13+), so the database owner may create it without superuser rights.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    create_index_on_existing_table('ix_articles_search_text', 'articles', ['search_text'],
                                   postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})


def downgrade() -> None:
    drop_index_on_existing_table('ix_articles_recency', 'articles')
    op.drop_index('ix_article_revisions_article', table_name='article_revisions')
    op.drop_table('article_revisions')
    op.drop_index('uq_article_reviews_one_in_review', table_name='article_reviews')
    op.drop_index('ix_article_reviews_article', table_name='article_reviews')
    op.drop_table('article_reviews')
    drop_index_on_existing_table('ix_articles_search_text', 'articles')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('search_text')
        batch_op.drop_column('updated_by')
        batch_op.drop_column('created_by')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_sessions_user')
    op.drop_table('staff_sessions')
    op.drop_table('users')
