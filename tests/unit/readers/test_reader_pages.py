"""/subscribe, the confirmation landing and the preferences page, through the real app (SQLite)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from config.settings import get_settings
from service import links
from service.announcements.links import preferences_url
from service.channels.mail import build_email
from service.cli.main import app as cli
from service.db.engine import session_scope
from service.db.models import (
    Announcement,
    Category,
    ConsentEvent,
    Delivery,
    SubscribeRequest,
    Subscription,
    Suppression,
)
from service.db.types import utcnow
from service.deliveries.planning import plan_announcement
from service.readers.consent import CURRENT_VERSION
from tests.outbound import outbound
from tests.unit.api.conftest import make_token

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(web: TestClient, path: str = "/subscribe") -> str:
    page = web.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


def _signup(web: TestClient, email: str, **extra: Any) -> Any:
    form = {"csrf_token": _token(web), "email": email, "consent": "yes", "frequency": "each", "lang": "vi"}
    form.update(extra)
    return web.post("/subscribe", data=form)


def _counts() -> tuple[int, ...]:
    with session_scope() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Subscription, SubscribeRequest, Announcement, Delivery, ConsentEvent)
        )


def _confirm_token(subscription_id: int) -> str:
    """The token the confirmation mail carries, recomputed as the worker does."""
    with session_scope() as session:
        request = session.scalars(
            select(SubscribeRequest)
            .where(SubscribeRequest.subscription_id == subscription_id)
            .order_by(SubscribeRequest.id.desc())
        ).first()
        assert request is not None
        return links.token_from_salt(get_settings().secret_key.get_secret_value(), request.token_salt)


def _subscription(email: str) -> Subscription:
    with session_scope() as session:
        found = session.scalars(select(Subscription).where(Subscription.target == email)).one()
        session.expunge(found)
        return found


def test_the_form_is_vietnamese_by_default_english_on_request_noindex_and_scriptless(web: TestClient) -> None:
    page = web.get("/subscribe")
    assert page.status_code == 200
    assert "Đăng ký nhận tin qua thư điện tử" in page.text and "Nghị định 13/2023/NĐ-CP" in page.text
    assert page.headers["x-robots-tag"] == "noindex" and page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text.split("</head>")[1]
    assert page.cookies.get("__Host-bantin_csrf")
    english = web.get("/subscribe?lang=en")
    assert "Subscribe by e-mail" in english.text and "Decree 13/2023" in english.text


def test_the_same_answer_for_new_pending_confirmed_and_bot_addresses(web: TestClient) -> None:
    new = _signup(web, "Ban.Doc@Example.VN")
    assert new.status_code == 303 and new.headers["location"] == "/subscribe/sent?lang=vi"
    sub = _subscription("ban.doc@example.vn")  # one reader, one address, in any case
    assert sub.status == "pending"
    pending = _signup(web, "ban.doc@example.vn")
    bot = _signup(web, "bot@example.vn", website="http://spam.example")
    token = _confirm_token(sub.id)
    web.post(f"/subscribe/confirm/{token}", data={"csrf_token": _token(web, f"/subscribe/confirm/{token}")})
    confirmed = _signup(web, "ban.doc@example.vn")
    answers = {(r.status_code, r.headers["location"], r.text) for r in (new, pending, bot, confirmed)}
    assert len(answers) == 1
    with session_scope() as session:
        types = session.scalars(select(Announcement.type).order_by(Announcement.id)).all()
        assert types == ["reader.confirm", "reader.confirm", "reader.subscribed", "reader.manage"]
        assert session.scalars(select(Subscription).where(Subscription.target == "bot@example.vn")).first() is None


def test_nothing_but_the_confirmation_goes_to_an_unconfirmed_address(web: TestClient) -> None:
    _signup(web, "cho@example.vn")
    sub = _subscription("cho@example.vn")
    with session_scope() as session:
        planned = plan_announcement(
            session,
            source_key="event:1",
            event_type="article.published",
            payload={"article": {"title": "Tin"}},
            now=utcnow(),
            settings=get_settings(),
        )
    assert planned == []
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.subscription_id == sub.id)) == 1


def test_a_get_never_confirms_the_post_does_once_and_records_consent(web: TestClient) -> None:
    _signup(web, "xac.nhan@example.vn", frequency="weekly")
    sub = _subscription("xac.nhan@example.vn")
    token = _confirm_token(sub.id)
    landing = web.get(f"/subscribe/confirm/{token}")
    assert landing.status_code == 200 and "Xác nhận" in landing.text
    assert _subscription("xac.nhan@example.vn").status == "pending"
    csrf = CSRF.search(landing.text).group(1)  # type: ignore[union-attr]
    done = web.post(f"/subscribe/confirm/{token}", data={"csrf_token": csrf}, headers={"X-Forwarded-For": "1.2.3.4"})
    assert done.status_code == 200 and "Đã đăng ký" in done.text
    sub = _subscription("xac.nhan@example.vn")
    assert (sub.status, sub.frequency) == ("active", "weekly")
    again = web.post(f"/subscribe/confirm/{token}", data={"csrf_token": csrf})
    assert "đã được dùng" in again.text
    with session_scope() as session:
        consent = session.scalars(select(ConsentEvent)).one()
    # X-Forwarded-For from an untrusted peer is ignored: the direct peer is recorded.
    assert (consent.action, consent.method, consent.channel) == ("given", "form", "email")
    assert consent.text_version == CURRENT_VERSION and consent.client_address == "testclient"


def test_an_expired_or_unknown_link_confirms_nothing(web: TestClient) -> None:
    _signup(web, "het.han@example.vn")
    sub = _subscription("het.han@example.vn")
    token = _confirm_token(sub.id)
    with session_scope() as session:
        for request in session.scalars(select(SubscribeRequest)):
            request.expires_at = utcnow() - timedelta(seconds=1)
    assert web.get(f"/subscribe/confirm/{token}").status_code == 410
    csrf = _token(web)
    assert web.post(f"/subscribe/confirm/{token}", data={"csrf_token": csrf}).status_code == 410
    assert _subscription("het.han@example.vn").status == "pending"
    assert web.get("/subscribe/confirm/" + "A" * 43).status_code == 404
    assert web.get("/subscribe/confirm/%00").status_code == 404


def test_bad_input_re_renders_with_the_values_and_stores_nothing(web: TestClient) -> None:
    before = _counts()
    answer = web.post("/subscribe", data={"csrf_token": _token(web), "email": "khong-phai-thu", "lang": "vi"})
    assert answer.status_code == 422
    assert 'value="khong-phai-thu"' in answer.text and 'role="alert"' in answer.text
    assert "Cần đánh dấu đồng ý" in answer.text and "không hợp lệ" in answer.text
    assert _counts() == before


def test_a_form_without_its_token_or_from_another_site_is_refused(web: TestClient) -> None:
    before = _counts()
    form = {"email": "csrf@example.vn", "consent": "yes"}
    assert web.post("/subscribe", data=form).status_code == 403
    form["csrf_token"] = _token(web)
    assert web.post("/subscribe", data=form, headers={"Origin": "https://evil.example"}).status_code == 403
    assert _counts() == before


def test_rate_limits_per_address_and_per_client_store_nothing(web: TestClient, settings_override: Any) -> None:
    settings_override.setenv("BANTIN_SUBSCRIBE_PER_ADDRESS_PER_HOUR", "2")
    settings_override.setenv("BANTIN_SUBSCRIBE_PER_CLIENT_PER_HOUR", "4")
    assert _signup(web, "nhieu@example.vn").status_code == 303
    assert _signup(web, "nhieu@example.vn").status_code == 303
    before = _counts()
    refused = _signup(web, "nhieu@example.vn")
    assert refused.status_code == 429 and "nhiều lần" in refused.text and int(refused.headers["retry-after"]) > 60
    assert _counts() == before
    # The refused third request took a token from the client's bucket: this is its fourth and last.
    assert _signup(web, "khac@example.vn").status_code == 303
    # A bot's honeypot post is answered before any limit: it costs nothing and stores nothing.
    stored = _counts()
    assert _signup(web, "bot@example.vn", website="x").status_code == 303
    assert _counts() == stored
    client_refused = _signup(web, "thu.ba@example.vn")
    assert client_refused.status_code == 429 and "mạng của bạn" in client_refused.text


def test_a_domain_has_a_cap_on_unconfirmed_sign_ups(web: TestClient, settings_override: Any) -> None:
    settings_override.setenv("BANTIN_SUBSCRIBE_PENDING_PER_DOMAIN", "1")
    assert _signup(web, "mot@mien.example").status_code == 303
    before = _counts()
    refused = _signup(web, "hai@mien.example")
    assert refused.status_code == 429 and "tên miền" in refused.text
    assert _counts() == before
    assert _signup(web, "hai@mien-khac.example").status_code == 303


def _confirmed(web: TestClient, email: str) -> Subscription:
    _signup(web, email)
    sub = _subscription(email)
    token = _confirm_token(sub.id)
    web.post(f"/subscribe/confirm/{token}", data={"csrf_token": _token(web)})
    return _subscription(email)


def test_preferences_change_categories_frequency_pause_and_unsubscribe(web: TestClient) -> None:
    with session_scope() as session:
        # Public (listed by an admin), so readers may choose them before any article uses them.
        session.add_all(
            [
                Category(name="Thời sự", slug="thoi-su", listed=True),
                Category(name="Đà Nẵng", slug="da-nang", listed=True),
            ]
        )
    sub = _confirmed(web, "tuy.chon@example.vn")
    path = preferences_url(get_settings(), sub.id, utcnow()).removeprefix(get_settings().base_url)
    page = web.get(path)
    assert page.status_code == 200 and "tuy.chon@example.vn" in page.text and "Đà Nẵng" in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    saved = web.post(
        path,
        data={
            "csrf_token": csrf,
            "action": "save",
            "scope": "some",
            "categories": ["da-nang", "khong-co"],
            "frequency": "daily",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=save")
    assert "Đã lưu" in web.get(saved.headers["location"]).text
    sub = _subscription("tuy.chon@example.vn")
    assert (sub.categories, sub.frequency) == (["da-nang"], "daily")
    web.post(path, data={"csrf_token": csrf, "action": "pause"})
    assert _subscription("tuy.chon@example.vn").status == "paused"
    web.post(path, data={"csrf_token": csrf, "action": "unsubscribe"})
    assert _subscription("tuy.chon@example.vn").status == "disabled"
    with session_scope() as session:
        actions = session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id)).all()
    assert actions == ["given", "changed", "changed", "withdrawn"]


def test_a_preferences_link_tampered_with_or_expired_opens_nothing(web: TestClient) -> None:
    sub = _confirmed(web, "lien.ket@example.vn")
    base = get_settings().base_url
    good = preferences_url(get_settings(), sub.id, utcnow()).removeprefix(base)
    other = good.replace(f"/preferences/{sub.id}/", f"/preferences/{sub.id + 1}/")
    assert web.get(other).status_code == 404
    old = preferences_url(get_settings(), sub.id, utcnow() - timedelta(days=365)).removeprefix(base)
    expired = web.get(old)
    # The way back is a fresh link by mail, not a new sign-up (issue 23 §3).
    assert expired.status_code == 410 and 'href="/subscribe/manage"' in expired.text
    assert web.post(old, data={"action": "unsubscribe"}).status_code == 410
    assert _subscription("lien.ket@example.vn").status == "active"


def test_every_reader_mail_but_the_confirmation_links_to_the_preferences(web: TestClient) -> None:
    sub = _confirmed(web, "thu@example.vn")
    settings = get_settings()

    def mail(event_type: str, payload: dict[str, Any]) -> Any:
        message = outbound(
            event_type,
            payload,
            subscription_id=sub.id,
            channel="email",
            target=sub.target,
            unsubscribe_token=sub.unsubscribe_token,
        )
        return message_from_bytes(bytes(build_email(settings, message)), policy=default_policy)

    article = mail("article.published", {"article": {"title": "Tin mới", "url": "https://x.vn/a"}})
    text = article.get_body(("plain",)).get_content()
    assert article["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/subscribe/preferences/{sub.id}/" in text
    with session_scope() as session:
        request = session.scalars(select(SubscribeRequest)).one()
    confirm = mail("reader.confirm", {"salt": request.token_salt, "expires_at": utcnow().isoformat()})
    body = confirm.get_body(("plain",)).get_content()
    token = re.search(r"/subscribe/confirm/([A-Za-z0-9_-]{43})", body).group(1)  # type: ignore[union-attr]
    assert links.token_hash(token) == request.token_hash and "thu@example.vn" in body
    assert "/subscribe/preferences/" not in body


def test_export_and_forget_through_the_api_and_the_cli(web: TestClient) -> None:
    sub = _confirmed(web, "quen.toi@example.vn")
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    with session_scope() as session:
        session.execute(update(Delivery).values(last_error="550 quen.toi@example.vn refused"))
    exported = web.get("/api/v1/subscribers/export", params={"target": "QUEN.TOI@example.vn"}, headers=admin).json()
    [entry] = exported["subscriptions"]
    assert entry["target"] == "quen.toi@example.vn" and entry["consent"][0]["text_version"] == CURRENT_VERSION
    # The confirmation and the welcome.
    assert len(entry["deliveries"]) == 2 and exported["suppressed"] is False
    cli_export = CliRunner().invoke(cli, ["subscribers", "export", "quen.toi@example.vn"])
    assert json.loads(cli_export.output)["subscriptions"][0]["id"] == sub.id
    assert web.post("/api/v1/subscribers/forget", json={"target": "quen.toi@example.vn"}, headers=admin).json() == {
        "forgotten": 1
    }
    with session_scope() as session:
        tombstone = session.get(Subscription, sub.id)
        assert tombstone is not None and tombstone.target == f"forgotten:{sub.id}" and tombstone.status == "disabled"
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0
        assert session.scalar(select(func.count()).select_from(SubscribeRequest)) == 0
        deliveries = session.scalars(select(Delivery).where(Delivery.subscription_id == sub.id)).all()
        assert len(deliveries) == 2 and all("quen.toi" not in (d.last_error or "") for d in deliveries)
        assert session.scalar(select(func.count()).select_from(Suppression)) == 1
    after = web.get("/api/v1/subscribers/export", params={"target": "quen.toi@example.vn"}, headers=admin).json()
    assert after == {"target": "quen.toi@example.vn", "suppressed": True, "subscriptions": []}
    # An admin cannot re-add a forgotten address; the reader can, by confirming again.
    readd = web.post("/api/v1/subscriptions", json={"channel": "email", "target": "quen.toi@example.vn"}, headers=admin)
    assert readd.status_code == 409
    assert CliRunner().invoke(cli, ["subscribers", "forget", "nobody@example.vn", "--yes"]).output.strip() == (
        "0 subscriptions forgotten"
    )


def test_an_unreachable_limit_store_refuses_and_stores_nothing(web: TestClient, settings_override: Any) -> None:
    settings_override.setenv("BANTIN_REDIS_URL", "redis://127.0.0.1:1/0")
    before = _counts()
    refused = _signup(web, "khong.redis@example.vn")
    assert refused.status_code == 503 and "tạm thời" in refused.text
    assert _counts() == before


def test_one_click_unsubscribe_is_a_consent_withdrawal(web: TestClient) -> None:
    sub = _confirmed(web, "mot.cham@example.vn")
    assert web.post(f"/unsubscribe/{sub.unsubscribe_token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with session_scope() as session:
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    assert [(e.action, e.detail.get("via")) for e in events][-1] == ("withdrawn", "one-click unsubscribe (RFC 8058)")


def test_unconfirmed_sign_ups_are_erased_a_day_after_their_links_expire(web: TestClient) -> None:
    from service.readers.signup import purge_unconfirmed

    _signup(web, "bo.qua@example.vn")
    sub = _confirmed(web, "da.xac.nhan@example.vn")
    _signup(web, "da.xac.nhan@example.vn")  # a manage mail, no new link
    with session_scope() as session:
        assert purge_unconfirmed(session, utcnow() + timedelta(hours=48)) == 0  # expired, but only just
    with session_scope() as session:
        assert purge_unconfirmed(session, utcnow() + timedelta(hours=48 + 25)) == 1
    with session_scope() as session:
        targets = session.scalars(select(Subscription.target)).all()
        assert targets == ["da.xac.nhan@example.vn"]
        # The confirmed reader's used link stays (export shows it); the stranger's deliveries went with it.
        assert session.scalar(select(func.count()).select_from(SubscribeRequest)) == 1
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.subscription_id != sub.id)) == 0


def test_digest_readers_get_no_message_per_article(web: TestClient) -> None:
    each = _confirmed(web, "moi.bai@example.vn")
    daily = _confirmed(web, "hang.ngay@example.vn")
    with session_scope() as session:
        session.get(Subscription, daily.id).frequency = "daily"  # type: ignore[union-attr]
    with session_scope() as session:
        planned = plan_announcement(
            session,
            source_key="event:digest",
            event_type="article.published",
            payload={"article": {"title": "Tin"}},
            now=utcnow(),
            settings=get_settings(),
        )
        recipients = set(session.scalars(select(Delivery.subscription_id).where(Delivery.id.in_(planned))))
    assert recipients == {each.id}


def test_some_categories_with_none_chosen_or_only_unknown_ones_is_an_error(web: TestClient) -> None:
    before = _counts()
    none = _signup(web, "mot.it@example.vn", scope="some")
    assert none.status_code == 422 and "ít nhất một chuyên mục" in none.text
    unknown = _signup(web, "mot.it@example.vn", scope="some", categories=["khong-co-that"])
    assert unknown.status_code == 422 and "Chuyên mục không hợp lệ" in unknown.text
    assert _counts() == before


def test_preferences_with_some_categories_but_none_chosen_change_nothing(web: TestClient) -> None:
    sub = _confirmed(web, "giu.nguyen@example.vn")
    path = preferences_url(get_settings(), sub.id, utcnow()).removeprefix(get_settings().base_url)
    csrf = CSRF.search(web.get(path).text).group(1)  # type: ignore[union-attr]
    answer = web.post(path, data={"csrf_token": csrf, "action": "save", "scope": "some", "frequency": "weekly"})
    assert answer.status_code == 422 and "ít nhất một chuyên mục" in answer.text
    assert _subscription("giu.nguyen@example.vn").frequency == "each"


def test_digests_are_offered_on_both_pages_and_a_bad_frequency_is_named(web: TestClient) -> None:
    form = web.get("/subscribe").text
    for choice in ("each", "daily", "weekly"):
        assert f'name="frequency" value="{choice}"' in form
    assert "Tóm tắt hằng ngày" in form and "A weekly digest" in web.get("/subscribe?lang=en").text
    before = _counts()
    refused = _signup(web, "tan.suat@example.vn", frequency="hourly")
    assert refused.status_code == 422 and "Hãy chọn một tần suất." in refused.text
    assert _counts() == before

    sub = _confirmed(web, "chuyen.doi@example.vn")
    assert _subscription("chuyen.doi@example.vn").frequency == "each"
    path = preferences_url(get_settings(), sub.id, utcnow()).removeprefix(get_settings().base_url)
    page = web.get(path).text
    assert 'name="frequency" value="weekly"' in page and 'value="each" checked' in page
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    bad = web.post(path, data={"csrf_token": csrf, "action": "save", "scope": "all", "frequency": "hourly"})
    assert bad.status_code == 422 and "Hãy chọn một tần suất." in bad.text
    assert _subscription("chuyen.doi@example.vn").frequency == "each"
    before_switch = utcnow()
    web.post(path, data={"csrf_token": csrf, "action": "save", "scope": "all", "frequency": "weekly"})
    switched = _subscription("chuyen.doi@example.vn")
    # Articles so far went one by one: the first digest starts from the switch.
    assert switched.frequency == "weekly" and switched.digest_since is not None
    assert switched.digest_since >= before_switch
