"""``bantin``: run the service and its roles, manage tokens, publish from files."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from config.settings import Settings, get_settings
from service.audit.context import act_as_operator
from service.cli.audit import audit_app
from service.cli.calendar import calendar_app
from service.cli.categories import categories_app
from service.cli.common import fail as _fail
from service.cli.common import local_stamp, parser_for, print_table, validation_failure
from service.cli.facebook import facebook_app
from service.cli.health import health_app
from service.cli.push import push_app
from service.cli.subscribers import deliveries_app, subscribers_app
from service.cli.telegram import telegram_app
from service.cli.users import users_app
from service.db import after_commit
from service.db.after_commit import Deferred
from service.errors import DomainError, InvalidField
from service.inputs import Limit, RowId

app = typer.Typer(help="Bantin: articles, feeds and announcements for a news desk.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tokens_app = typer.Typer(help="Staff API tokens.", no_args_is_help=True)
articles_app = typer.Typer(help="Articles.", no_args_is_help=True)
feeds_app = typer.Typer(help="Feeds.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tokens_app, name="tokens")
app.add_typer(articles_app, name="articles")
app.add_typer(categories_app, name="categories")
app.add_typer(feeds_app, name="feeds")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(calendar_app, name="calendar")
app.add_typer(health_app, name="health")
app.add_typer(users_app, name="users")
app.add_typer(telegram_app, name="telegram")
app.add_typer(facebook_app, name="facebook")
app.add_typer(push_app, name="push")
app.add_typer(audit_app, name="audit")


# Long-running roles name themselves in every log line; one-off commands are "cli".
ROLES = frozenset({"api", "worker", "beat", "up"})


def _send_after_commit(deferred: Deferred) -> None:
    # Imported on first use: most commands send nothing and need not load Celery.
    from workers.relay import send

    send(deferred)


@app.callback()
def _main(ctx: typer.Context) -> None:
    from service.observability.logs import configure_from_settings

    command = ctx.invoked_subcommand or "cli"
    configure_from_settings(command if command in ROLES else "cli", get_settings())
    after_commit.install(_send_after_commit)
    if command not in ROLES:
        # A one-off command is the operator's, audited under their login on the server.
        act_as_operator(_login_name())


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's arbitrary user)
        return "operator"


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

    from service.observability import multiprocess

    settings = get_settings()
    # Before the app (and prometheus-client) is imported; uvicorn's worker processes inherit it.
    # One directory per port: two APIs on one host must not empty each other's samples.
    multiprocess.use_directory(settings.var_dir / "metrics" / f"api-{port or settings.port}")
    if migrate:
        from service.db.migrate import upgrade

        upgrade()
    uvicorn.run(
        "service.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # With --workers, uvicorn kills a child that does not answer its ping within this many
        # seconds, and a child answers only once imported: 5 s (the default) is less than
        # Bantin's start on a busy 2-core host, where children were killed and restarted forever.
        timeout_worker_healthcheck=60,
        log_level=settings.log_level.lower(),
        # Our logging configuration, and our access line (route templates, no raw paths).
        log_config=None,
        access_log=False,
        # Who the client is, is decided once, from BANTIN_TRUSTED_PROXIES (service.web.client,
        # decision 0028). Uvicorn's own handling trusts X-Forwarded-For from 127.0.0.1 (or
        # FORWARDED_ALLOW_IPS) and would rewrite the peer before we see it.
        proxy_headers=False,
        # httptools with the request head bounded: 414 and 431 (decision 0030).
        http="service.api.http_protocol:BoundedHttpToolsProtocol",
        ws="none",  # no WebSocket endpoint: an upgrade request is answered as plain HTTP
    )


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="default: BANTIN_WORKER_CONCURRENCY")] = None,
    queues: Annotated[
        str,
        typer.Option(
            help="comma-separated queues: events,maintenance (feeds) or deliveries,websub (subscribers' servers); "
            "never both in one worker"
        ),
    ] = "events,maintenance",
) -> None:
    """Run a Celery worker: it waits for the broker first; the whole pool's metrics are on BANTIN_METRICS_PORT.

    A deployment runs both kinds: feeds (events, maintenance) and outbound (deliveries,
    websub), each as many as it needs (decision 0031)."""
    from service.observability import multiprocess
    from workers.queues import worker_role

    try:
        role = worker_role([name.strip() for name in queues.split(",") if name.strip()])
    except ValueError as exc:
        raise _fail(f"--queues: {exc}") from None
    settings = get_settings()
    # Before the tasks (and prometheus-client) are imported; the pool's children inherit it.
    # One directory per metrics port: two workers on one host (one per queue) each need a port.
    multiprocess.use_directory(settings.var_dir / "metrics" / f"worker-{settings.metrics_port}")
    import workers.observability  # noqa: F401 - connects the logging, task and metrics signals
    from workers.app import app as celery_app
    from workers.broker import wait_for_broker

    wait_for_broker(celery_app, "worker")

    celery_app.worker_main(
        [
            *_celery_quiet(settings),
            "worker",
            f"--loglevel={settings.log_level}",
            f"--concurrency={concurrency or settings.worker_concurrency}",
            f"--queues={queues}",
            f"--hostname={role}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command()
def beat() -> None:
    """Run the beat scheduler (one per deployment; every job is also safe to run twice).

    It waits for the broker first."""
    import workers.observability  # noqa: F401 - keeps Celery from replacing our logging
    from workers.app import app as celery_app
    from workers.broker import wait_for_broker

    settings = get_settings()
    wait_for_broker(celery_app, "beat")
    from service.private_files import private_directory

    private_directory(settings.var_dir)
    celery_app.start(
        [
            *_celery_quiet(settings),
            "beat",
            f"--loglevel={settings.log_level}",
            f"--schedule={settings.var_dir / 'celerybeat-schedule'}",
        ]
    )


def _celery_quiet(settings: Settings) -> list[str]:
    """No start-up banner in JSON mode: it is printed, not logged, and is not one object per line."""
    return ["--quiet"] if settings.effective_log_format == "json" else []


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations."""
    from service.db.migrate import upgrade

    upgrade(revision=revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="the revision to go back to, e.g. 0004, or base")],
) -> None:
    """Undo migrations down to REVISION (roll back a release: stop its roles first)."""
    from alembic import command

    from service.db.migrate import alembic_config

    command.downgrade(alembic_config(), revision)
    typer.echo(f"database at {revision}")


@db_app.command("recount")
def db_recount() -> None:
    """Rebuild the article counts, category links' dates and the search index from the
    articles (after a bulk import, or a rolling upgrade from before migration 0015 or 0019)."""
    from service.articles.derived import recount
    from service.db.engine import session_scope
    from service.search.index import entry_count

    with session_scope() as session:
        recount(session)
        indexed = entry_count(session)
    typer.echo(f"article counts rebuilt; {indexed} published articles in the search index")


@feeds_app.command("render")
def feeds_render() -> None:
    """Render every stored feed again now (the site's and each category's), rather than at
    its next publish: after an upgrade that changes what a feed holds (the stylesheets a
    browser shows it with, decision 33). Feeds whose bytes are unchanged keep their ETag."""
    from sqlalchemy import distinct, select

    from service.db.engine import session_scope
    from service.db.models import FeedDocument
    from service.db.types import utcnow
    from service.feeds.publish import render_scope
    from service.feeds.scopes import CALENDAR, SITE

    settings = get_settings()
    with session_scope() as session:
        scopes = sorted(set(session.scalars(select(distinct(FeedDocument.scope)))) - {CALENDAR} | {SITE})
    changed = 0
    for scope in scopes:
        with session_scope() as session:  # one scope a transaction, as a publish renders them
            changed += bool(render_scope(session, scope, utcnow(), settings))
    typer.echo(f"{len(scopes)} feed scopes rendered, {changed} changed")


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

    settings = get_settings()
    with session_scope() as session:
        rows = [
            (
                token.id,
                token.name,
                ",".join(token.scopes),
                f"revoked {local_stamp(token.revoked_at, settings.zone)}" if token.revoked_at else "active",
                local_stamp(token.last_used_at, settings.zone, empty="never"),
            )
            for token in list_tokens(session)
        ]
    print_table(("id", "name", "scopes", "state", f"last used ({settings.timezone})"), rows)


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(parser=parser_for(RowId))]) -> None:
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
    from service.articles.editorial import OPERATOR
    from service.articles.files import parse_article_file
    from service.articles.schemas import ArticleCreate
    from service.articles.service import create_article
    from service.articles.urls import article_url
    from service.db.engine import session_scope
    from service.db.types import utcnow

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
        change = create_article(session, data, utcnow(), get_settings(), OPERATOR)
        article = change.article
        summary = f"{article.id}\t{article.status}\t{article_url(article, get_settings().base_url)}"
    typer.echo(summary)


def _shown_time(article: Any) -> datetime:
    """The time a listing shows for an article: published, else scheduled or meant for, else created."""
    return article.published_at or article.publish_at or article.created_at  # type: ignore[no-any-return]


@articles_app.command("list")
def articles_list(
    status: Annotated[str | None, typer.Option(help="draft, scheduled, published or withdrawn")] = None,
    category: Annotated[str | None, typer.Option(help="category slug")] = None,
    limit: Annotated[int, typer.Option(parser=parser_for(Limit))] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """List articles, newest first; times in BANTIN_TIMEZONE (the header names it), ISO 8601 with
    its offset in --json."""
    from service.articles.service import list_articles
    from service.db.engine import session_scope
    from service.db.models import ArticleStatus

    try:
        parsed = ArticleStatus(status) if status else None
    except ValueError:
        raise _fail(f"status: must be one of {', '.join(s.value for s in ArticleStatus)}") from None
    settings = get_settings()
    with session_scope() as session:
        rows, _ = list_articles(session, status=parsed, category_slug=category, limit=limit)
        if not as_json:
            table = [(a.id, a.status, local_stamp(_shown_time(a), settings.zone), a.title) for a in rows]
            print_table(("id", "status", f"time ({settings.timezone})", "title"), table)
            return
        for a in rows:
            document = {
                "id": a.id,
                "status": a.status,
                "title": a.title,
                "guid": a.guid,
                "date": _shown_time(a).astimezone(settings.zone).isoformat(),
            }
            typer.echo(json.dumps(document, ensure_ascii=False))


@app.command()
def withdraw(article_id: Annotated[int, typer.Argument(parser=parser_for(RowId))]) -> None:
    """Withdraw an article from every feed."""
    from service.articles.editorial import OPERATOR
    from service.articles.service import withdraw_article
    from service.db.engine import session_scope
    from service.db.types import utcnow

    try:
        with session_scope() as session:
            withdraw_article(session, article_id, utcnow(), get_settings(), OPERATOR)
    except DomainError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"article {article_id} withdrawn")


if __name__ == "__main__":
    sys.exit(app())
