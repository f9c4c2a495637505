"""the search index: article_search (a table with tsvectors and GIN indexes on PostgreSQL, an FTS5 table on SQLite)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:00:00

Filled from the published articles here; from then on the domain code keeps each entry in
step with its article (service/articles/derived.py, decision 33). Articles written by
processes of the previous release between this migration and their restart are not in
it: run ``bantin db recount`` once the roles have rolled. The shapes are written out here
rather than taken from service/search/index.py, so that this revision stays what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from service.db.types import UTCDateTime
from service.search.index import rebuild

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        op.create_table(
            'article_search',
            sa.Column('article_id', sa.BigInteger(), sa.ForeignKey('articles.id', ondelete='CASCADE'),
                      primary_key=True),
            sa.Column('published_at', UTCDateTime(), nullable=False),
            sa.Column('title', postgresql.TSVECTOR(), nullable=False),
            sa.Column('heading', postgresql.TSVECTOR(), nullable=False),
            sa.Column('document', postgresql.TSVECTOR(), nullable=False),
        )
        for vector in ('title', 'heading', 'document'):
            # A short pending list (256 kB, not 4 MB): every query reads the list whole, and
            # a full one cost 40 ms a query between autovacuums (bench/README.md, search).
            op.create_index(f'ix_article_search_{vector}', 'article_search', [vector], postgresql_using='gin',
                            postgresql_with={'gin_pending_list_limit': 256})
            # Ten times the default sample of lexemes: how common a word is decides between
            # walking the newest entries and reading the GIN index (bench/README.md, search).
            op.execute(f'ALTER TABLE article_search ALTER COLUMN {vector} SET STATISTICS 1000')
        op.create_index('ix_article_search_recency', 'article_search', ['published_at', 'article_id'])
    else:
        # detail=column: which column holds a key is all a query asks (no phrases of two
        # words, no ranking functions), so positions are not stored; nor are column sizes.
        op.execute(
            "CREATE VIRTUAL TABLE article_search USING fts5(title, summary, body, "
            "tokenize = 'unicode61 remove_diacritics 0', detail = column, columnsize = 0)"
        )
        # The foreign key's cascade, which a virtual table cannot have.
        op.execute(
            "CREATE TRIGGER article_search_follows_articles AFTER DELETE ON articles "
            "BEGIN DELETE FROM article_search WHERE rowid = old.id; END"
        )
    # The session joins the migration's transaction (it neither commits nor rolls it back).
    with Session(bind=connection) as session:
        rebuild(session)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_table('article_search')
    else:
        op.execute("DROP TRIGGER article_search_follows_articles")
        op.execute("DROP TABLE article_search")
