"""Subscribers in the console: an admin's page; add per channel with errors by the field,
pause, resume, remove, rotate a secret (shown once), a test message; editors are refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db.engine import session_scope
from service.db.models import Announcement, Delivery, Subscription
from tests.unit.console.conftest import ORIGIN, login, make_user
from tests.unit.console.conftest import post_form as post

# A public address as an IP literal: the egress guard accepts it without asking DNS.
PUBLIC_HOOK = "https://93.184.215.14/bantin-hook"


def subscription_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Subscription)) or 0


def only_subscription() -> Subscription:
    with session_scope() as session:
        return session.scalars(select(Subscription)).one()


def add(client: TestClient, token: str, channel: str, target: str, **fields: object):  # type: ignore[no-untyped-def]
    return post(client, "/console/subscribers/new", token, {"channel": channel, "target": target, **fields})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/console/subscribers"),
        ("GET", "/console/subscribers/new"),
        ("GET", "/console/subscribers/1"),
        ("GET", "/console/deliveries"),
        ("POST", "/console/subscribers/new"),
        ("POST", "/console/subscribers/1/pause"),
        ("POST", "/console/deliveries/recover"),
    ],
)
@pytest.mark.parametrize("role", ["editor", "writer"])
def test_editors_and_writers_get_an_html_403_on_admin_pages(
    app_client: TestClient, role: str, method: str, path: str
) -> None:
    make_user("nguoidung", role)
    token = login(app_client, "nguoidung")
    if method == "GET":
        response = app_client.get(path)
    else:
        response = post(app_client, path, token, {"channel": "email", "target": "a@example.vn"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Không có quyền" in response.text
    assert subscription_count() == 0


def test_the_nav_shows_admin_links_to_admins_only(app_client: TestClient) -> None:
    make_user("bientap", "editor")
    make_user("quantri", "admin")
    login(app_client, "bientap")
    page = app_client.get("/console/").text
    assert 'href="/console/subscribers"' not in page and 'href="/console/deliveries' not in page
    assert "Gửi tin 24 giờ qua" in page  # the figures, without links to pages they cannot open
    login(app_client, "quantri")
    page = app_client.get("/console/").text
    assert 'href="/console/subscribers"' in page
    assert 'href="/console/deliveries?status=failed"' in page
    assert 'href="/console/subscribers?status=disabled"' in page


def test_a_webhook_subscriber_is_added_and_its_secret_shown_once(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    form = client.get("/console/subscribers/new?channel=webhook").text
    assert 'for="target">Địa chỉ webhook (URL)' in form and 'type="url"' in form
    response = add(
        client,
        token,
        "webhook",
        PUBLIC_HOOK,
        events=["article.published", "article.updated"],
        categories="Thời sự, Đảng",
        locale="vi",
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    secret = re.search(r'value="(whsec_[^"]+)"', response.text)
    assert secret
    stored = only_subscription()
    assert stored.secret == secret.group(1)
    assert stored.events == ["article.published", "article.updated"]
    assert stored.categories == ["thoi-su", "dang"]
    page = client.get(f"/console/subscribers/{stored.id}").text
    assert PUBLIC_HOOK in page and "whsec_" not in page
    assert "whsec_" not in client.get("/console/subscribers").text


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("ftp://93.184.215.14/hook", "Phải là địa chỉ bắt đầu bằng https://."),
        ("https://10.0.0.5/hook", "Trỏ tới địa chỉ nội bộ hoặc dành riêng (10.0.0.5)"),
        ("http://127.0.0.1:9000/hook", "Trỏ tới địa chỉ nội bộ hoặc dành riêng (127.0.0.1)"),
        ("https://user:pw@93.184.215.14/hook", "Không được chứa tên đăng nhập hay mật khẩu."),
        ("   ", "Không được để trống."),
    ],
)
def test_a_wrong_webhook_url_is_refused_by_the_field_and_nothing_is_stored(
    admin: tuple[TestClient, str], target: str, message: str
) -> None:
    client, token = admin
    response = add(client, token, "webhook", target, categories="Thời sự")
    assert response.status_code == 422
    field_error = re.search(r'<p class="field-error" id="target-error">([^<]*)</p>', response.text)
    assert field_error and message in field_error.group(1), response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="Thời sự"' in response.text  # what was typed is kept
    assert subscription_count() == 0


@pytest.mark.parametrize(
    ("channel", "target", "field", "message"),
    [
        ("telegram", "not a chat", "target", "Phải là mã cuộc trò chuyện Telegram"),
        ("zalo", "abc", "target", "user_id dạng số"),
        ("email", "khong-phai-email", "target", "Không phải địa chỉ e-mail hợp lệ."),
        ("slack", "https://192.168.1.2/services/x", "target", "địa chỉ nội bộ"),
        ("pigeon", "x", "channel", "Giá trị không hợp lệ"),
    ],
)
def test_each_channel_checks_its_own_target(
    admin: tuple[TestClient, str], channel: str, target: str, field: str, message: str
) -> None:
    client, token = admin
    response = add(client, token, channel, target)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and message in response.text
    assert subscription_count() == 0


def test_an_unknown_event_or_locale_is_refused_by_its_field(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    response = add(client, token, "email", "a@example.vn", events=["article.deleted"], locale="fr")
    assert response.status_code == 422
    assert 'id="events-error"' in response.text and 'id="locale-error"' in response.text
    assert subscription_count() == 0


def test_other_channels_go_to_their_page_without_a_secret(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    response = add(client, token, "telegram", "-1001234567890")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Đã thêm người nhận" in page and "-1001234567890" in page and "Đổi khóa ký" not in page
    assert only_subscription().secret is None


def test_without_the_csrf_token_nothing_is_added(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    response = client.post(
        "/console/subscribers/new", data={"channel": "email", "target": "a@example.vn"}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 403 and "không có gì được thay đổi" in response.text
    forged = client.post(
        "/console/subscribers/new",
        data={"channel": "email", "target": "a@example.vn", "csrf_token": "sai"},
        headers={"Origin": ORIGIN},
    )
    assert forged.status_code == 403
    assert subscription_count() == 0


def test_the_list_filters_by_channel_and_status_and_pages(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    for n in range(27):
        assert add(client, token, "email", f"nguoi{n}@example.vn").status_code == 303
    assert add(client, token, "slack", "https://93.184.215.14/services/T000/B000/XXXXabcd").status_code == 303
    first = client.get("/console/subscribers").text
    assert "28 người nhận." in first and "Trang 1/2" in first
    slack = client.get("/console/subscribers?channel=slack").text
    assert "1 người nhận." in slack and "nguoi0@" not in slack
    assert "/…abcd" in slack and "XXXXabcd" not in slack  # a credential-bearing URL cut, as the API lists it
    second = client.get("/console/subscribers?channel=email&page=2").text
    assert "nguoi26@example.vn" in second and "nguoi0@example.vn" not in second
    with session_scope() as session:
        paused_id = session.scalars(select(Subscription.id).order_by(Subscription.id)).first()
    assert post(client, f"/console/subscribers/{paused_id}/pause", token).status_code == 303
    paused = client.get("/console/subscribers?status=paused").text
    assert "1 người nhận." in paused and "nguoi0@example.vn" in paused
    unknown = client.get("/console/subscribers?status=bogus&channel=pigeon")
    # An unknown filter is refused by its field, not ignored (tests/unit/console/test_list_filters.py).
    assert unknown.status_code == 422 and "28 người nhận." not in unknown.text
    assert 'id="status-error"' in unknown.text and 'id="channel-error"' in unknown.text
    assert client.get("/console/subscribers?page=0").status_code == 422


def test_pause_resume_and_remove_with_confirmation(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    location = add(client, token, "email", "bandoc@example.vn").headers["location"]
    sub_id = int(location.rsplit("/", 1)[1])
    assert post(client, f"{location}/pause", token).status_code == 303
    assert only_subscription().status == "paused"
    page = client.get(location).text
    assert "Đã tạm dừng" in page and "Bật lại" in page and "Gửi tin thử" not in page
    assert post(client, f"{location}/resume", token).status_code == 303
    assert only_subscription().status == "active"
    confirm = client.get(f"{location}/remove")
    assert confirm.status_code == 200 and f"Xóa người nhận #{sub_id}?" in confirm.text
    assert subscription_count() == 1  # asking changes nothing
    assert client.post(f"{location}/remove", data={}, headers={"Origin": ORIGIN}).status_code == 403
    assert subscription_count() == 1
    removed = post(client, f"{location}/remove", token)
    assert removed.status_code == 303 and removed.headers["location"] == "/console/subscribers"
    assert subscription_count() == 0
    assert client.get(location).status_code == 404


def test_rotating_a_webhook_secret_shows_the_new_one_once(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    add(client, token, "webhook", PUBLIC_HOOK)
    before = only_subscription()
    rotated = post(client, f"/console/subscribers/{before.id}/rotate-secret", token)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    after = only_subscription()
    assert after.secret != before.secret and after.previous_secret == before.secret
    assert after.secret is not None and after.secret in rotated.text
    assert before.secret is not None and before.secret not in rotated.text

    location = add(client, token, "email", "a@example.vn").headers["location"]
    refused = post(client, f"{location}/rotate-secret", token)
    assert refused.status_code == 409 and "Chỉ người nhận qua webhook" in refused.text


def test_a_test_message_is_a_delivery_row_like_any_other(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    location = add(client, token, "telegram", "@kenhthanhuy").headers["location"]
    sent = post(client, f"{location}/test", token)
    assert sent.status_code == 303
    with session_scope() as session:
        delivery = session.scalars(select(Delivery)).one()
        announcement = session.get(Announcement, delivery.announcement_id)
        assert announcement is not None and announcement.type == "subscription.test"
        assert delivery.status == "pending"
    page = client.get(location).text
    assert "Đã xếp tin thử vào hàng gửi" in page and delivery.id in page and "Chưa gửi lần nào" in page
    assert post(client, f"{location}/pause", token).status_code == 303
    refused = post(client, f"{location}/test", token)
    assert refused.status_code == 409 and "tạm dừng" in refused.text
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_unknown_subscribers_are_404_pages(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    for response in (
        client.get("/console/subscribers/999"),
        client.get("/console/subscribers/999/remove"),
        post(client, "/console/subscribers/999/pause", token),
        post(client, "/console/subscribers/999/test", token),
        post(client, "/console/subscribers/999/rotate-secret", token),
    ):
        assert response.status_code == 404 and "Không tìm thấy" in response.text
