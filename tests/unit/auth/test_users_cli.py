"""``bantin users``: the password comes from stdin when it is not a terminal."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from service.auth.users import authenticate
from service.cli.main import app
from service.cli.users import print_first_admin_hint_if_no_users
from service.db.engine import session_scope
from service.db.types import utcnow

PASSWORD = "mật khẩu đủ dài 2026"


def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_create_list_disable_and_set_password() -> None:
    code, out, _ = run("users", "create", "--username", "admin", "--role", "admin", stdin=PASSWORD + "\n")
    assert code == 0 and "user admin (admin) created" in out
    code, out, _ = run("users", "list")
    header, row = out.splitlines()
    assert header == "username\trole\tstate\tlast login (Asia/Ho_Chi_Minh)\tdisplay name"
    assert row.startswith("admin\tadmin\tactive\tnever\t")

    code, out, _ = run("users", "set-password", "admin", stdin="một mật khẩu khác hẳn\n")
    assert code == 0
    with session_scope() as session:
        assert authenticate(session, "admin", "một mật khẩu khác hẳn", utcnow()) is not None

    assert run("users", "disable", "admin")[0] == 0
    assert "admin\tadmin\tdisabled" in run("users", "list")[1]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--username", "a b", "--role", "admin"), PASSWORD, "username: must be"),
        (("--username", "ok", "--role", "owner"), PASSWORD, "role: must be one of writer, editor, admin"),
        (("--username", "ok", "--role", "editor"), "ngắn", "password: must be at least 10 characters"),
    ],
)
def test_bad_input_is_named_and_nothing_is_created(args: tuple[str, ...], stdin: str, message: str) -> None:
    code, _, err = run("users", "create", *args, stdin=stdin + "\n")
    assert code == 2 and message in err
    assert run("users", "list")[1] == ""


def test_a_taken_username_and_an_unknown_user_are_errors() -> None:
    run("users", "create", "--username", "lan", stdin=PASSWORD + "\n")
    code, _, err = run("users", "create", "--username", "LAN", stdin=PASSWORD + "\n")
    assert code == 2 and "already exists" in err
    code, _, err = run("users", "disable", "khong-co")
    assert code == 2 and "does not exist" in err


def test_up_tells_how_to_create_the_first_admin_only_while_there_is_none(capsys: pytest.CaptureFixture[str]) -> None:
    print_first_admin_hint_if_no_users("http://127.0.0.1:8000")
    assert "bantin users create --username admin --role admin" in capsys.readouterr().err
    run("users", "create", "--username", "admin", "--role", "admin", stdin=PASSWORD + "\n")
    print_first_admin_hint_if_no_users("http://127.0.0.1:8000")
    assert capsys.readouterr().err == ""


def test_listings_print_local_times_under_a_header_that_names_the_zone() -> None:
    """`users list` and `articles list` (issue 20 §6): 01:30 UTC is 08:30 in Hà Nội, and the header says so."""
    from datetime import UTC, datetime

    from config.settings import get_settings
    from service.articles.editorial import OPERATOR
    from service.articles.schemas import ArticleCreate
    from service.articles.service import create_article
    from service.db.models import User

    signed_in = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    run("users", "create", "--username", "bientap", "--role", "editor", stdin=PASSWORD + "\n")
    with session_scope() as session:
        user = session.query(User).filter_by(username="bientap").one()
        user.last_login_at = signed_in
        data = ArticleCreate(title="Tin sáng", body_html="<p>Tin.</p>", status="published", publish_at=signed_in)
        article = create_article(session, data, signed_in, get_settings(), OPERATOR).article
    assert run("users", "list")[1].splitlines()[1].split("\t")[3] == "2026-12-07 08:30"
    listed = run("articles", "list")
    assert listed[0] == 0, listed
    header, row = listed[1].splitlines()
    assert header == "id\tstatus\ttime (Asia/Ho_Chi_Minh)\ttitle"
    assert row == f"{article.id}\tpublished\t2026-12-07 08:30\tTin sáng"


def test_reset_two_factor_removes_it_and_is_the_operators_in_the_audit_log() -> None:
    import pyotp
    from sqlalchemy import select

    from service.auth import two_factor
    from service.auth.users import get_user
    from service.db.models import AuditEvent

    run("users", "create", "--username", "lan", "--role", "editor", stdin=PASSWORD + "\n")
    with session_scope() as session:
        user = get_user(session, "lan")
        two_factor.confirm(session, user, pyotp.TOTP(two_factor.pending_secret(session, user)).now(), utcnow())
    code, out, _ = run("users", "reset-two-factor", "lan")
    assert code == 0 and "reset" in out
    assert run("users", "reset-two-factor", "nobody")[0] != 0
    with session_scope() as session:
        assert not two_factor.enrolled(get_user(session, "lan"))
        row = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset")).one()
        assert (row.actor_kind, row.client) == ("operator", "cli")
