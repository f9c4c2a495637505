"""``bantin users``: staff accounts for the console."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from config.settings import get_settings
from service.cli.common import fail, local_stamp, print_table
from service.errors import DomainError

users_app = typer.Typer(help="Staff accounts for the console (/console/).", no_args_is_help=True)

FIRST_ADMIN_HINT = (
    "No console user exists yet. Create the first admin with:\n"
    "    .venv/bin/bantin users create --username admin --role admin\n"
    "then sign in at {base_url}/console/login"
)


def _read_password() -> str:
    """Asked twice on a terminal; otherwise the first line of stdin (for scripts and tests)."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("create")
def create(
    username: Annotated[str, typer.Option(help="2-64 of a-z 0-9 . _ -")],
    role: Annotated[str, typer.Option(help="writer, editor or admin")] = "editor",
    display_name: Annotated[str | None, typer.Option(help="shown in the console; default: the username")] = None,
) -> None:
    """Create a user; the password is asked for (or read from stdin)."""
    from service.auth.users import check_password_rules, create_user
    from service.db.engine import session_scope
    from service.db.types import utcnow

    try:
        password = check_password_rules(_read_password())
        with session_scope() as session:
            user = create_user(session, username, password, role, utcnow(), display_name)
            summary = f"user {user.username} ({user.role}) created"
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(summary)


@users_app.command("list")
def list_() -> None:
    """List users: username, role, state, last sign-in."""
    from service.auth.users import list_users
    from service.db.engine import session_scope

    zone = get_settings().zone
    with session_scope() as session:
        rows = [
            (
                user.username,
                user.role,
                "active" if user.active else "disabled",
                local_stamp(user.last_login_at, zone, empty="never"),
                user.display_name,
            )
            for user in list_users(session)
        ]
    print_table(("username", "role", "state", f"last login ({get_settings().timezone})", "display name"), rows)


@users_app.command("disable")
def disable(username: str) -> None:
    """Stop a user signing in, and end their sessions."""
    from service.auth.users import disable_user
    from service.db.engine import session_scope

    try:
        with session_scope() as session:
            disable_user(session, username)
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"user {username} disabled")


@users_app.command("set-password")
def set_password(username: str) -> None:
    """Set a new password (asked for, or read from stdin); the user's sessions end."""
    from service.auth.users import check_password_rules
    from service.auth.users import set_password as set_user_password
    from service.db.engine import session_scope

    try:
        password = check_password_rules(_read_password())
        with session_scope() as session:
            set_user_password(session, username, password)
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"password of {username} changed; their sessions have ended")


@users_app.command("reset-two-factor")
def reset_two_factor(username: str) -> None:
    """A lost authenticator: the user's TOTP secret and recovery codes go, their sessions end;
    they enrol again at their next sign-in. Audited, as the console's reset is."""
    from service.auth import two_factor
    from service.db.engine import session_scope
    from service.db.types import utcnow

    try:
        with session_scope() as session:
            two_factor.reset(session, username, utcnow())
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"two-factor sign-in of {username} reset; their sessions have ended")


def print_first_admin_hint_if_no_users(base_url: str) -> None:
    """What `bantin up` says on a database without users: how to get into the console."""
    from service.auth.users import count_users
    from service.db.engine import session_scope

    with session_scope() as session:
        if count_users(session) == 0:
            typer.echo(FIRST_ADMIN_HINT.format(base_url=base_url), err=True)
