"""categories.menu_position: the categories an admin puts in the public pages' menu, in order

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table('categories') as batch:
        batch.add_column(sa.Column('menu_position', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('categories') as batch:
        batch.drop_column('menu_position')
