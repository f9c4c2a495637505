"""The CLI parses ids, counts and instants with the API's own types: a clear usage error, never a traceback."""

import pytest
from typer.testing import CliRunner

from service.cli.main import app

TOO_BIG = str(2**63)


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["tokens", "revoke", TOO_BIG], "token_id"),
        (["withdraw", "0"], "article_id"),
        (["subscribers", "show", TOO_BIG], "subscription_id"),
        (["subscribers", "pause", "0"], "subscription_id"),
        (["subscribers", "resume", TOO_BIG], "subscription_id"),
        (["subscribers", "remove", TOO_BIG], "subscription_id"),
        (["subscribers", "rotate-secret", TOO_BIG], "subscription_id"),
        (["subscribers", "test", "0"], "subscription_id"),
        (["subscribers", "recover", TOO_BIG, "--since", "2026-01-01"], "subscription_id"),
        (["subscribers", "recover", "1", "--since", "9999-12-31T23:59:59-14:00"], "--since"),
        (["subscribers", "recover", "1", "--since", "0001-01-02T00:00:00Z"], "--since"),
        (["subscribers", "recover", "1", "--since", "hôm qua"], "--since"),
        (["deliveries", "list", "--subscription", TOO_BIG], "--subscription"),
        (["deliveries", "list", "--announcement", "0"], "--announcement"),
        (["deliveries", "list", "--limit=-1"], "--limit"),
        (["articles", "list", "--limit", "0"], "--limit"),
        (["articles", "list", "--limit", TOO_BIG], "--limit"),
        (["calendar", "upcoming", "--days", TOO_BIG], "--days"),
        (["calendar", "upcoming", "--days=-3"], "--days"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_option(args: list[str], what: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Invalid value" in result.output and what in result.output


def test_recover_since_without_a_zone_is_local_time() -> None:
    from config.settings import get_settings
    from service.db.engine import session_scope
    from service.db.types import utcnow
    from service.subscriptions.schemas import SubscriptionCreate
    from service.subscriptions.service import create_subscription

    with session_scope() as session:
        sub, _ = create_subscription(
            session, SubscriptionCreate(channel="email", target="a@example.vn"), utcnow(), get_settings()
        )
        sub_id = sub.id
    result = CliRunner().invoke(app, ["subscribers", "recover", str(sub_id), "--since", "2026-11-27T08:00"])
    assert result.exit_code == 0, result.output
    assert "0 deliveries requeued" in result.output


@pytest.mark.parametrize("publish_at", ["0001-01-02 00:00", "9999-12-31T23:59:59-14:00", "1900-01-01"])
def test_publish_refuses_a_front_matter_time_out_of_range(tmp_path: object, publish_at: str) -> None:
    from pathlib import Path

    from sqlalchemy import func, select

    from service.db.engine import session_scope
    from service.db.models import Article

    file = Path(str(tmp_path)) / "bai.md"
    file.write_text(f"---\ntitle: Bài\npublish_at: {publish_at}\n---\nNội dung\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["publish", str(file)])
    assert result.exit_code == 2, result.output
    assert "publish_at: must be between 1970-01-01 and 2199-12-31" in result.output
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0
