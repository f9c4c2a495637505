"""feed variants: precompressed bodies, a version per document

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feed_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_gzip', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('body_br', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    # Documents rendered before this revision are compressed now, once, like a render would.
    from service.feeds.variants import compress_brotli, compress_gzip

    bind = op.get_bind()
    table = sa.table(
        'feed_documents',
        sa.column('scope', sa.String()),
        sa.column('format', sa.String()),
        sa.column('body', sa.LargeBinary()),
        sa.column('body_gzip', sa.LargeBinary()),
        sa.column('body_br', sa.LargeBinary()),
    )
    for scope, fmt, body in bind.execute(sa.select(table.c.scope, table.c.format, table.c.body)).all():
        bind.execute(
            table.update()
            .where(table.c.scope == scope, table.c.format == fmt)
            .values(body_gzip=compress_gzip(body), body_br=compress_brotli(body))
        )


def downgrade() -> None:
    with op.batch_alter_table('feed_documents', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('body_br')
        batch_op.drop_column('body_gzip')
