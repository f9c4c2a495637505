"""``bantin``: run the service and its roles, manage tokens, publish from files."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from config.settings import get_settings
from service.cli.calendar import calendar_app
from service.cli.common import fail as _fail
from service.cli.common import validation_failure
from service.cli.subscribers import deliveries_app, subscribers_app
from service.cli.users import users_app
from service.errors import DomainError, InvalidField

app = typer.Typer(help="Bantin: articles, feeds and announcements for a news desk.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tokens_app = typer.Typer(help="Staff API tokens.", no_args_is_help=True)
articles_app = typer.Typer(help="Articles.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tokens_app, name="tokens")
app.add_typer(articles_app, name="articles")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(calendar_app, name="calendar")
app.add_typer(users_app, name="users")


def _configure_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.callback()
def _main() -> None:
    _configure_logging()


# ---- running ---------------------------------------------------------------------------------


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="default: BANTIN_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: BANTIN_PORT")] = None,
) -> None:
    """Run everything: API, worker and beat (and the embedded Redis when no URL is set)."""
    from service.cli import supervisor
    from service.cli.users import print_first_admin_hint_if_no_users
    from service.db.migrate import upgrade

    settings = get_settings()
    upgrade()
    print_first_admin_hint_if_no_users(settings.base_url)
    raise typer.Exit(supervisor.run(settings, host or settings.host, port or settings.port))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="default: BANTIN_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: BANTIN_PORT")] = None,
    migrate: Annotated[bool, typer.Option(help="apply migrations first")] = True,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Run the HTTP API alone (production: one per machine behind a proxy)."""
    import uvicorn

    settings = get_settings()
    if migrate:
        from service.db.migrate import upgrade

        upgrade()
    uvicorn.run(
        "service.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="default: BANTIN_WORKER_CONCURRENCY")] = None,
    queues: Annotated[str, typer.Option(help="comma-separated queues")] = "events,deliveries,maintenance",
) -> None:
    """Run a Celery worker."""
    from workers.app import app as celery_app

    settings = get_settings()
    celery_app.worker_main(
        [
            "worker",
            f"--loglevel={settings.log_level}",
            f"--concurrency={concurrency or settings.worker_concurrency}",
            f"--queues={queues}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command()
def beat() -> None:
    """Run the beat scheduler (one per deployment; every job is also safe to run twice)."""
    from workers.app import app as celery_app

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    celery_app.start(
        ["beat", f"--loglevel={settings.log_level}", f"--schedule={settings.var_dir / 'celerybeat-schedule'}"]
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations."""
    from service.db.migrate import upgrade

    upgrade(revision=revision)
    typer.echo(f"database at {revision}")


# ---- tokens ----------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="who or what uses it")],
    scope: Annotated[
        list[str], typer.Option(help="write, publish or admin (admin implies publish, publish implies write)")
    ],
) -> None:
    """Create a token; it is printed once, alone on the last line."""
    from service.auth.tokens import create_token
    from service.db.engine import session_scope
    from service.db.types import utcnow

    try:
        with session_scope() as session:
            token, raw = create_token(session, name, scope, utcnow())
            token_id, scopes = token.id, token.scopes
    except InvalidField as exc:
        raise _fail(f"{exc.field}: {exc.message}") from None
    typer.echo(f"token {token_id} '{name}' with scopes {', '.join(scopes)} (shown once, store it now):")
    typer.echo(raw)


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    from service.auth.tokens import list_tokens
    from service.db.engine import session_scope

    with session_scope() as session:
        for token in list_tokens(session):
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            used = f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            typer.echo(f"{token.id}\t{token.name}\t{','.join(token.scopes)}\t{state}\t{used}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token; requests with it get 401 from then on."""
    from service.auth.tokens import revoke_token
    from service.db.engine import session_scope
    from service.db.types import utcnow

    try:
        with session_scope() as session:
            revoke_token(session, token_id, utcnow())
    except DomainError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"token {token_id} revoked")


# ---- articles --------------------------------------------------------------------------------


@app.command()
def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    draft: Annotated[bool, typer.Option(help="store as a draft")] = False,
) -> None:
    """Publish a Markdown or HTML file with front matter (title, categories, author …)."""
    from service.articles.files import parse_article_file
    from service.articles.schemas import ArticleCreate
    from service.articles.service import article_url, create_article
    from service.db.engine import session_scope
    from service.db.types import utcnow
    from workers.relay import relay_events

    try:
        fields = parse_article_file(file)
        if draft:
            fields["status"] = "draft"
        data = ArticleCreate.model_validate(fields)
    except InvalidField as exc:
        raise _fail(f"{exc.field}: {exc.message}") from None
    except ValidationError as exc:
        raise validation_failure(exc) from None
    with session_scope() as session:
        change = create_article(session, data, utcnow())
        article = change.article
        summary = f"{article.id}\t{article.status}\t{article_url(article)}"
    relay_events(change.event_ids)
    typer.echo(summary)


@articles_app.command("list")
def articles_list(
    status: Annotated[str | None, typer.Option(help="draft, scheduled, published or withdrawn")] = None,
    category: Annotated[str | None, typer.Option(help="category slug")] = None,
    limit: int = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """List articles, newest first."""
    from service.articles.service import list_articles
    from service.db.engine import session_scope
    from service.db.models import ArticleStatus

    try:
        parsed = ArticleStatus(status) if status else None
    except ValueError:
        raise _fail(f"status: must be one of {', '.join(s.value for s in ArticleStatus)}") from None
    with session_scope() as session:
        rows, _ = list_articles(session, status=parsed, category_slug=category, limit=limit)
        for a in rows:
            when = a.published_at or a.publish_at or a.created_at
            if as_json:
                typer.echo(
                    json.dumps(
                        {"id": a.id, "status": a.status, "title": a.title, "guid": a.guid, "date": when.isoformat()},
                        ensure_ascii=False,
                    )
                )
            else:
                typer.echo(f"{a.id}\t{a.status}\t{when:%Y-%m-%d %H:%M}\t{a.title}")


@app.command()
def withdraw(article_id: int) -> None:
    """Withdraw an article from every feed."""
    from service.articles.service import withdraw_article
    from service.db.engine import session_scope
    from service.db.types import utcnow
    from workers.relay import relay_events

    try:
        with session_scope() as session:
            change = withdraw_article(session, article_id, utcnow())
    except DomainError as exc:
        raise _fail(str(exc)) from None
    relay_events(change.event_ids)
    typer.echo(f"article {article_id} withdrawn")


if __name__ == "__main__":
    sys.exit(app())
