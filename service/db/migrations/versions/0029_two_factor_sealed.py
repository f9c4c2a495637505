"""users.totp_* wide enough for sealed secrets; two_factor_roles chosen in the console (issue 22 §4)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Widening a varchar is a catalogue change on PostgreSQL (no table rewrite). Values kept
    # in clear before are sealed at their next use (service/auth/two_factor.py): sealing
    # needs BANTIN_SECRET_KEY, which a migration does not hold.
    with op.batch_alter_table('users') as batch:
        batch.alter_column('totp_secret', type_=sa.String(length=255), existing_nullable=True)
        batch.alter_column('totp_pending_secret', type_=sa.String(length=255), existing_nullable=True)
    op.create_table(
        'two_factor_roles',
        sa.Column('role', sa.String(length=20), primary_key=True),
        sa.Column('required_since', UTCDateTime(), nullable=False),
        sa.Column('required_by', sa.String(length=64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('two_factor_roles')
    # A sealed secret (87 characters) does not fit the old columns, and the old code could not
    # open it anyway: those staff enrol again (their recovery codes still sign them in).
    op.execute(sa.text("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL WHERE length(totp_secret) > 64"))
    op.execute(sa.text("UPDATE users SET totp_pending_secret = NULL WHERE length(totp_pending_secret) > 64"))
    with op.batch_alter_table('users') as batch:
        batch.alter_column('totp_pending_secret', type_=sa.String(length=64), existing_nullable=True)
        batch.alter_column('totp_secret', type_=sa.String(length=64), existing_nullable=True)
