"""``bantin audit``: the audit log's retention run by hand (service/audit/retention.py)."""

from __future__ import annotations

from typing import Annotated

import typer

audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@audit_app.command("export")
def export(
    older_than_days: Annotated[float | None, typer.Option(min=0, help="default: BANTIN_AUDIT_RETENTION_DAYS")] = None,
) -> None:
    """Write audit rows older than the retention to files under var/audit/, then delete them
    (what deliveries.purge does at every tick); prints each file and its row count."""
    from config.settings import get_settings
    from service.audit.retention import export_old
    from service.db.engine import session_scope
    from service.db.types import utcnow

    settings = get_settings()
    days = settings.audit_retention_days if older_than_days is None else older_than_days
    written = export_old(session_scope, settings.var_dir / "audit", utcnow(), days, max_chunks=1_000)
    for exported in written:
        typer.echo(f"{exported.path}\t{exported.rows} rows")
    if not written:
        typer.echo("no audit rows older than the retention")
