"""``bantin health ROLE``: the container health check of each role (exit 0 healthy, 1 not).

Images have no curl, and a worker or beat has no HTTP port, so compose, Docker's
``HEALTHCHECK`` and Kubernetes exec probes all run this one command:

- ``api``: ``GET /readyz`` (or ``--path /healthz``) on this machine's API port answers 200;
- ``worker``: this host's Celery worker (either role) answers a remote-control ping through the broker,
  which proves the main process is alive and consuming;
- ``beat``: the broker that beat sends to is reachable (beat is one process: if it dies
  the container ends, so what can go wrong while it runs is the broker).
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from typing import Annotated

import typer

from config.settings import get_settings

health_app = typer.Typer(help="Health checks for containers and probes (exit 0 healthy, 1 not).", no_args_is_help=True)


def _verdict(problem: str | None, what: str) -> None:
    if problem is not None:
        typer.echo(f"unhealthy: {what}: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"healthy: {what}")


@health_app.command("api")
def api_health(
    port: Annotated[int | None, typer.Option(help="default: BANTIN_PORT")] = None,
    path: Annotated[str, typer.Option(help="/readyz (database and broker too) or /healthz (the process)")] = "/readyz",
    timeout: Annotated[float, typer.Option(help="seconds")] = 5.0,
) -> None:
    """The API on this machine answers ``path`` with 200."""
    url = f"http://127.0.0.1:{port or get_settings().port}{path}"
    problem = None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if response.status != 200:
                problem = f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        problem = f"HTTP {exc.code}: {exc.read(300).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as exc:
        problem = str(exc)
    _verdict(problem, url)


@health_app.command("worker")
def worker_health(
    timeout: Annotated[float, typer.Option(help="seconds to wait for the answer")] = 10.0,
    role: Annotated[str | None, typer.Option(help="feeds or outbound; default: either")] = None,
) -> None:
    """This host's Celery worker (``feeds@<hostname>`` or ``outbound@<hostname>``, decision 0031)
    answers a ping through the broker. A container runs one worker: either role's answer will do."""
    from workers.app import app as celery_app
    from workers.queues import ROLES

    if role is not None and role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    names = [f"{each}@{socket.gethostname()}" for each in ROLES if role in (None, each)]
    try:
        replies = celery_app.control.ping(destination=names, timeout=timeout, limit=1)
        problem = None if any(name in reply for reply in replies for name in names) else "no answer to a ping"
    except Exception as exc:  # noqa: BLE001 - a broker error is "unhealthy", with its reason
        problem = f"{type(exc).__name__}: {exc}"
    _verdict(problem, " or ".join(names))


@health_app.command("beat")
def beat_health() -> None:
    """The broker that beat sends its jobs to is reachable."""
    from workers.app import app as celery_app
    from workers.broker import broker_display_url, broker_problem

    _verdict(broker_problem(celery_app), f"broker {broker_display_url(celery_app)}")
