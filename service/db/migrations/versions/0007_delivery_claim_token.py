"""delivery claim token

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 18:45:00.000000

A batch that claims deliveries stamps them with its own token; results are written
only where the token still matches, so a batch that outlived its lease (its rows
handed to another batch by the sweep) cannot overwrite the other batch's results.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('claim_token')
