"""A welcome that keeps readers (issue 23 §3) and a sign-up that never promises a mail that
cannot go (issue 20 §2), through the real app (SQLite)."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import get_settings
from service.channels.mail import build_email
from service.db.engine import session_scope
from service.db.models import Announcement, Category, Delivery, SubscribeRequest, Subscription
from service.db.types import utcnow
from service.web.forms import csrf_cookie_name, csrf_token, new_csrf_cookie
from tests.outbound import outbound
from tests.unit.readers.test_reader_pages import _confirm_token, _signup, _subscription, _token

PREFERENCES = re.compile(r'href="(/subscribe/preferences/\d+/[^"]+|https://[^"]+/subscribe/preferences/\d+/[^"]+)"')


def _announced(subscription_id: int) -> list[tuple[str, dict[str, Any]]]:
    with session_scope() as session:
        rows = session.execute(
            select(Announcement.type, Announcement.payload)
            .join(Delivery, Delivery.announcement_id == Announcement.id)
            .where(Delivery.subscription_id == subscription_id)
            .order_by(Announcement.id)
        )
        return [(kind, dict(payload)) for kind, payload in rows]


def _mail(kind: str, payload: dict[str, Any], sub: Subscription, locale: str = "vi") -> Any:
    message = outbound(kind, payload, subscription_id=sub.id, channel="email", target=sub.target,
                       unsubscribe_token=sub.unsubscribe_token, locale=locale)  # fmt: skip
    return message_from_bytes(build_email(get_settings(), message), policy=default_policy)


def test_confirming_sends_a_welcome_with_the_choice_and_links_the_preferences(web: TestClient) -> None:
    with session_scope() as session:
        session.add_all([Category(name="Thời sự", slug="thoi-su", listed=True),
                         Category(name="Đà Nẵng", slug="da-nang", listed=True)])  # fmt: skip
    _signup(web, "chao.mung@example.vn", scope="some", categories=["da-nang", "thoi-su"], frequency="daily")
    sub = _subscription("chao.mung@example.vn")
    page = web.post(f"/subscribe/confirm/{_confirm_token(sub.id)}", data={"csrf_token": _token(web)})
    assert page.status_code == 200 and "Đã đăng ký" in page.text
    link = PREFERENCES.search(page.text)
    assert link, page.text
    assert web.get(link.group(1).replace("https://bantin.example.vn", "")).status_code == 200
    welcome = [payload for kind, payload in _announced(sub.id) if kind == "reader.subscribed"]
    assert welcome == [{"categories": ["Đà Nẵng", "Thời sự"], "frequency": "daily"}]
    mail = _mail("reader.subscribed", welcome[0], sub)
    text = mail.get_body(("plain",)).get_content()
    assert str(mail["Subject"]) == f"Chào mừng bạn đến với bản tin {get_settings().site_title}"
    assert "Chuyên mục: Đà Nẵng, Thời sự" in text and "Tần suất: Tóm tắt hằng ngày" in text
    assert "/subscribe/preferences/" in text and "bỏ qua thư này" not in text
    english = _mail("reader.subscribed", {"categories": [], "frequency": "each"}, sub, "en")
    assert "Categories: All categories" in english.get_body(("plain",)).get_content()
    # A second click confirms nothing more and welcomes nobody twice.
    web.post(f"/subscribe/confirm/{_confirm_token(sub.id)}", data={"csrf_token": _token(web)})
    assert [kind for kind, _ in _announced(sub.id)].count("reader.subscribed") == 1


def _ask_link(web: TestClient, email: str) -> Any:
    return web.post("/subscribe/manage", data={"csrf_token": _token(web, "/subscribe/manage"), "email": email})


def test_a_fresh_preferences_link_is_answered_alike_for_anyone_and_mailed_to_readers_only(web: TestClient) -> None:
    _signup(web, "da.dang.ky@example.vn")
    sub = _subscription("da.dang.ky@example.vn")
    web.post(f"/subscribe/confirm/{_confirm_token(sub.id)}", data={"csrf_token": _token(web)})
    _signup(web, "chua.xac.nhan@example.vn")
    pending = _subscription("chua.xac.nhan@example.vn")
    answers = [_ask_link(web, address) for address in ("DA.DANG.KY@example.vn", "la.mat@example.vn",
                                                       "chua.xac.nhan@example.vn")]  # fmt: skip
    assert {(a.status_code, a.headers["location"]) for a in answers} == {(303, "/subscribe/manage/sent?lang=vi")}
    assert [kind for kind, _ in _announced(sub.id)].count("reader.manage") == 1
    assert [kind for kind, _ in _announced(pending.id)] == ["reader.confirm"]
    sent = web.get("/subscribe/manage/sent")
    assert sent.status_code == 200 and "Nếu địa chỉ này đang đăng ký" in sent.text
    bad = _ask_link(web, "không phải địa chỉ")
    assert bad.status_code == 422 and "Địa chỉ thư điện tử không hợp lệ." in bad.text


def test_asking_for_links_is_throttled_per_address(web: TestClient, settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_SUBSCRIBE_PER_ADDRESS_PER_HOUR", "2")
    codes = [_ask_link(web, "nhieu.lan@example.vn").status_code for _ in range(3)]
    assert codes == [303, 303, 429]


def test_without_a_relay_in_production_the_form_says_mail_is_unavailable_and_stores_nothing(
    settings_override: pytest.MonkeyPatch,
) -> None:
    settings_override.setenv("BANTIN_ENVIRONMENT", "production")
    settings_override.setenv("BANTIN_SECRET_KEY", "k" * 48)
    settings_override.delenv("BANTIN_SMTP_HOST", raising=False)
    from service.api.app import create_app

    with TestClient(create_app(), base_url="https://testserver", follow_redirects=False) as web:
        form = web.get("/subscribe")
        assert form.status_code == 503 and "Tạm thời chưa đăng ký được qua thư" in form.text
        assert 'action="/subscribe"' not in form.text and 'href="/theo-doi"' in form.text
        assert web.get("/subscribe/manage").status_code == 503
        # A form kept open from before (a valid token) still stores nothing.
        cookie = new_csrf_cookie()
        web.cookies.set(csrf_cookie_name(get_settings()), cookie, domain="testserver.local")
        token = csrf_token(get_settings(), cookie, utcnow())
        posted = web.post(
            "/subscribe",
            data={"email": "muon@example.vn", "consent": "yes", "csrf_token": token},
        )
        assert posted.status_code == 503 and "Tạm thời chưa đăng ký được qua thư" in posted.text
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(SubscribeRequest)) == 0
