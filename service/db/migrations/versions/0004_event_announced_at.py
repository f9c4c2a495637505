"""event announced_at

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 17:05:32.961524
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announced_at', UTCDateTime(), nullable=True))
    # Events from before this revision were announced by the handler that rendered them.
    op.execute("UPDATE outbox_events SET announced_at = COALESCE(handled_at, created_at)")



def downgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('announced_at')

