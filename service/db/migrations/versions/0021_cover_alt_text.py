"""articles.image_alt: the cover image's text alternative, required to publish (decision 0034)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds the column without rewriting the table. Articles
    # already published keep going out as they are; the rule holds from their next publish.
    with op.batch_alter_table('articles') as batch:
        batch.add_column(sa.Column('image_alt', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('articles') as batch:
        batch.drop_column('image_alt')
