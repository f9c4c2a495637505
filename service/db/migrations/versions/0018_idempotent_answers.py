"""idempotent answers: where the created resource is, and the subscription an answer names

Every POST of the API takes an Idempotency-Key now (decision 29): a replay repeats the
first answer's Location, and an answer that quotes a subscription (its address, its
signing secret) goes with it when the subscription is deleted or forgotten.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.migration_ops import create_index_on_existing_table, drop_index_on_existing_table

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('subscription_id', BigId, nullable=True))
        batch_op.create_foreign_key(
            'fk_idempotent_requests_subscription_id', 'subscriptions', ['subscription_id'], ['id'], ondelete='CASCADE'
        )
    # Until now only article creation kept its answers, and their Location is the article's.
    op.execute(
        sa.text(
            "UPDATE idempotent_requests SET location = '/api/v1/articles/' || "
            + ("(response_body ->> 'id')" if op.get_bind().dialect.name == 'postgresql' else "json_extract(response_body, '$.id')")
        )
    )
    create_index_on_existing_table('ix_idempotent_requests_subscription_id', 'idempotent_requests', ['subscription_id'])


def downgrade() -> None:
    drop_index_on_existing_table('ix_idempotent_requests_subscription_id', 'idempotent_requests')
    # Answers of other endpoints would be replayed by the previous release as articles.
    op.execute(sa.text("DELETE FROM idempotent_requests WHERE location IS NULL OR location NOT LIKE '/api/v1/articles/%'"))
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.drop_constraint('fk_idempotent_requests_subscription_id', type_='foreignkey')
        batch_op.drop_column('subscription_id')
        batch_op.drop_column('location')
