"""What the domain operations write to the audit log: who, from where, the action, and only
the fields that changed, secrets masked (issue 22 §3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from config.settings import get_settings
from service.articles.review import approve, submit_for_review
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, update_article, withdraw_article
from service.audit.context import acting, identify
from service.audit.log import MASK, record
from service.auth.tokens import create_token, revoke_token
from service.auth.users import authenticate, create_user, set_password
from service.db.engine import session_scope
from service.db.models import AuditEvent
from service.db.types import utcnow
from service.readers.privacy import forget
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription
from tests.actors import staff

ADDRESS = "203.0.113.9"


@pytest.fixture
def first_new_id() -> int:
    """Audit rows outlive each test (append-only): a test reads those above this id."""
    with session_scope() as session:
        return (session.scalar(select(func.max(AuditEvent.id))) or 0) + 1


def rows(since: int) -> list[AuditEvent]:
    with session_scope() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.id >= since).order_by(AuditEvent.id)))
        session.expunge_all()
        return found


@pytest.fixture
def as_lan() -> Iterator[None]:
    with acting(client=ADDRESS):
        identify("user", 7, "lan")
        yield


@pytest.mark.usefixtures("as_lan")
def test_an_article_s_life_is_audited_with_only_the_changed_fields(first_new_id: int) -> None:
    settings, now = get_settings(), utcnow()
    writer, editor = staff("user:lan", "writer"), staff("user:minh")
    with session_scope() as session:
        article = create_article(
            session, ArticleCreate(title="Tin A", body_html="<p>x</p>", status="draft"), now, settings, writer
        ).article
        update_article(session, article.id, ArticleUpdate.model_validate({"title": "Tin B"}), now, settings, writer)
        submit_for_review(session, article.id, writer, now, get_settings())
        approve(session, article.id, editor, now, settings, publish_now=True)
        withdraw_article(session, article.id, now, settings, editor)

    found = rows(first_new_id)
    assert [r.action for r in found] == [
        "article.create",
        "article.update",
        "article.submit",
        "article.approve",
        "article.withdraw",
    ]
    assert {(r.actor_kind, r.actor_id, r.actor_name, r.client, r.object_type) for r in found} == {
        ("user", "7", "lan", ADDRESS, "article")
    }
    assert found[0].before is None and found[0].after is not None and found[0].after["title"] == "Tin A"
    assert (found[1].before, found[1].after) == ({"title": "Tin A"}, {"title": "Tin B"})
    assert (found[3].before, found[3].after) == ({"status": "pending_review"}, {"status": "published"})
    assert (found[4].before, found[4].after) == ({"status": "published"}, {"status": "withdrawn"})


def test_secrets_never_reach_the_log(first_new_id: int) -> None:
    now = utcnow()
    with acting("operator", client="cli", name="root"), session_scope() as session:
        create_user(session, "lan", "mật-khẩu-dài-đủ", "writer", now)
        set_password(session, "lan", "một-mật-khẩu-khác")
        token, raw = create_token(session, "cms", ["write"], now)
        revoke_token(session, token.id, now)
        _, secret = create_subscription(
            session, SubscriptionCreate(channel="webhook", target="https://93.184.215.14/x"), now, get_settings()
        )
        record(session, "user.two_factor_enrol", "user", 1, {"totp_secret": None}, {"totp_secret": "JBSWY3DP"})

    found = rows(first_new_id)
    text = repr([(r.before, r.after) for r in found])
    for secret_value in ("mật-khẩu", "argon2", raw, token.token_hash, secret or "-", "JBSWY3DP"):
        assert secret_value not in text
    by_action = {r.action: r for r in found}
    assert by_action["user.password"].after == {"password": MASK}
    assert by_action["user.create"].after == {
        "username": "lan",
        "display_name": "lan",
        "role": "writer",
        "active": True,
    }
    assert by_action["token.create"].after == {"name": "cms", "scopes": ["write"], "revoked_at": None}
    assert by_action["subscription.create"].after == {
        "channel": "webhook",
        "events": [],
        "categories": [],
        "locale": "vi",
        "status": "active",
        "target": "https://93.184.215.14/x",
    }
    assert by_action["user.two_factor_enrol"].after == {"totp_secret": MASK}
    assert {r.actor_kind for r in found} == {"operator"}


def test_a_failed_sign_in_and_a_forgotten_reader_are_audited_without_personal_data(first_new_id: int) -> None:
    now = utcnow()
    with session_scope() as session:
        create_user(session, "lan", "mật-khẩu-dài-đủ", "writer", now)
        create_subscription(session, SubscriptionCreate(channel="email", target="an@example.vn"), now, get_settings())
    with acting(client=ADDRESS), session_scope() as session:
        assert authenticate(session, "LAN", "sai-mật-khẩu-rồi", now) is None
        assert authenticate(session, "nobody", "sai-mật-khẩu-rồi", now) is None
        assert forget(session, "an@example.vn", now) == 1

    found = [r for r in rows(first_new_id) if r.client == ADDRESS]
    assert [(r.action, r.actor_kind, r.object_id is None, r.after) for r in found] == [
        ("sign_in.failed", "anonymous", False, {"username": "LAN"}),
        ("sign_in.failed", "anonymous", True, {"username": "nobody"}),
        ("subscriber.forget", "anonymous", False, {"subscriptions": 1}),
    ]
    assert "an@example.vn" not in repr([(r.before, r.after, r.object_id) for r in rows(first_new_id)])


def test_an_unknown_action_is_refused_so_no_row_hides_from_the_filter() -> None:
    with session_scope() as session, pytest.raises(ValueError, match="unknown audit action"):
        record(session, "article.delete", "article", 1)


def test_the_category_menu_and_a_listed_category_are_audited(first_new_id: int) -> None:
    from service.articles.categories import create_listed_category
    from service.site.navigation import set_menu

    now = utcnow()
    with acting("operator", client="cli", name="root"), session_scope() as session:
        first = create_listed_category(session, "Thời sự", now)
        second = create_listed_category(session, "Văn hóa", now)
        set_menu(session, {first.id: 1})
        set_menu(session, {second.id: 1, first.id: 2})
    found = rows(first_new_id)
    assert [(r.action, r.before, r.after) for r in found][2:] == [
        ("category.menu", {"menu": []}, {"menu": ["thoi-su"]}),
        ("category.menu", {"menu": ["thoi-su"]}, {"menu": ["van-hoa", "thoi-su"]}),
    ]
    assert [(r.action, r.object_id, r.after) for r in found][:1] == [
        ("category.list", str(first.id), {"name": "Thời sự", "slug": "thoi-su"})
    ]


def test_a_sign_in_names_the_user_from_then_on_and_a_sign_out_is_recorded(first_new_id: int) -> None:
    from service.auth.sessions import sign_out, start_session

    now = utcnow()
    with session_scope() as session:
        user = create_user(session, "lan", "mật-khẩu-dài-đủ", "writer", now)
    with acting(client=ADDRESS), session_scope() as session:
        raw = start_session(session, user, now)
        sign_out(session, raw, now)
        sign_out(session, raw, now)  # already ended: nothing more
    found = [(r.action, r.actor_kind, r.actor_name, r.client) for r in rows(first_new_id)][1:]
    assert found == [("sign_in", "user", "lan", ADDRESS), ("sign_out", "user", "lan", ADDRESS)]
