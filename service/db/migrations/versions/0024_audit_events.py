"""audit_events and audit_exports: the append-only audit log (issue 22 §3, decision 0036)

Triggers make the log append-only where it is stored, whoever connects: an UPDATE of an
audit row is refused, and so is a DELETE of a row that no ``audit_exports`` row covers
(retention exports rows to a file, records the file, then deletes just those rows). The
export records themselves are never updated or deleted. On PostgreSQL a TRUNCATE of
either table is refused too.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.types import UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_SQLITE = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: rows are never updated'); END""",
    """CREATE TRIGGER audit_events_delete_exported_only BEFORE DELETE ON audit_events
    WHEN OLD.id > COALESCE((SELECT MAX(through_id) FROM audit_exports), 0)
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: only exported rows are deleted'); END""",
    """CREATE TRIGGER audit_exports_no_update BEFORE UPDATE ON audit_exports
    BEGIN SELECT RAISE(ABORT, 'audit_exports is append-only'); END""",
    """CREATE TRIGGER audit_exports_no_delete BEFORE DELETE ON audit_exports
    BEGIN SELECT RAISE(ABORT, 'audit_exports is append-only'); END""",
)
_SQLITE_DROP = (
    "audit_events_no_update",
    "audit_events_delete_exported_only",
    "audit_exports_no_update",
    "audit_exports_no_delete",
)

# ERRCODE 42501 (insufficient_privilege): what a REVOKEd privilege would answer.
_POSTGRESQL = (
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND OLD.id <= COALESCE((SELECT MAX(through_id) FROM audit_exports), 0) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = '42501';
    END $$""",
    """CREATE FUNCTION audit_exports_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
    END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_exports_append_only()""",
    """CREATE TRIGGER audit_exports_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_exports
    FOR EACH STATEMENT EXECUTE FUNCTION audit_exports_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor_name", "at"])
    op.create_index("ix_audit_events_action", "audit_events", ["action", "at"])
    op.create_index("ix_audit_events_object", "audit_events", ["object_type", "object_id"])
    op.create_table(
        "audit_exports",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
    )
    statements = _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE
    for statement in statements:
        op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Dropping the tables drops their triggers; the functions go after them.
        op.drop_table("audit_exports")
        op.drop_table("audit_events")
        op.execute(sa.text("DROP FUNCTION audit_events_append_only()"))
        op.execute(sa.text("DROP FUNCTION audit_exports_append_only()"))
        return
    for name in _SQLITE_DROP:
        op.execute(sa.text(f"DROP TRIGGER {name}"))
    op.drop_table("audit_exports")
    op.drop_table("audit_events")
