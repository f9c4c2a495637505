"""The delivery log in the console: filters, each attempt's local time, HTTP status or error
and latency; replay one delivery; recover a subscriber's failures since a local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import get_settings
from service.articles.editorial import OPERATOR
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.db.engine import session_scope
from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Subscription
from service.deliveries.planning import Named, plan_announcement
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription
from tests.unit.console.conftest import ORIGIN
from tests.unit.console.conftest import post_form as post

SENT_AT = datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC)  # 08:02:03 in Hà Nội


def recover(client: TestClient, token: str, subscription: str, since: str):  # type: ignore[no-untyped-def]
    return post(client, "/console/deliveries/recover", token, {"subscription": subscription, "since": since})


def subscriber(target: str) -> int:
    with session_scope() as session:
        data = SubscriptionCreate(channel="email", target=target)
        subscription, _ = create_subscription(session, data, SENT_AT, get_settings())
        return subscription.id


Attempts = list[tuple[int | None, str | None]]


def delivered(subscription_id: int, title: str, status: DeliveryStatus, attempts: Attempts) -> str:
    """A planned announcement to one subscriber, with its attempts recorded as the sender records them."""
    with session_scope() as session:
        article = create_article(
            session, ArticleCreate(title=title, body_html="<p>Tin.</p>"), SENT_AT, get_settings(), OPERATOR
        ).article
        (delivery_id,) = plan_announcement(
            session,
            source_key=f"test:{title}",
            event_type="article.published",
            payload={"article": {"id": article.id, "title": title}},
            now=SENT_AT,
            settings=get_settings(),
            audience=Named((subscription_id,)),
        )
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.status = status.value
        delivery.attempts = len(attempts)
        delivery.lease_until = None
        for code, error in attempts:
            attempt = DeliveryAttempt(
                delivery_id=delivery_id, attempted_at=SENT_AT, status_code=code, error=error, duration_ms=87
            )
            session.add(attempt)
    return delivery_id


def status_of(delivery_id: str) -> str:
    with session_scope() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        return delivery.status


def test_the_log_shows_each_attempt_and_filters(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    first, second = subscriber("mot@example.vn"), subscriber("hai@example.vn")
    ok = delivered(first, "Lễ kỷ niệm", DeliveryStatus.DELIVERED, [(250, None)])
    refused: Attempts = [(503, "HTTP 503: Service Unavailable"), (None, "timed out")]
    failed = delivered(second, "Hội nghị", DeliveryStatus.FAILED, refused)
    page = client.get("/console/deliveries").text
    assert "2 tin gửi." in page and ok in page and failed in page
    assert "02/03/2026 08:02:03" in page  # dd/mm/yyyy HH:mm:ss in BANTIN_TIMEZONE
    # Words, not codes: the kind, SMTP's 250, a refusal, the remote's own text labelled as such.
    assert "article.published" not in page and "Bài mới đăng" in page
    assert "HTTP" not in page.split("<main", 1)[1]
    assert "Máy chủ thư đã nhận" in page and "Bị từ chối (mã 503)" in page
    assert "Máy nhận trả lời mã 503: Service Unavailable" in page and "Chi tiết: timed out" in page
    assert "87 ms" in page and "Lễ kỷ niệm" in page and "Hội nghị" in page

    only_failed = client.get("/console/deliveries?status=failed").text
    assert "1 tin gửi." in only_failed and failed in only_failed and ok not in only_failed
    by_subscriber = client.get(f"/console/deliveries?subscription={first}").text
    assert ok in by_subscriber and failed not in by_subscriber
    with session_scope() as session:
        delivery = session.get(Delivery, failed)
        assert delivery is not None
        announcement_id = delivery.announcement_id
    by_announcement = client.get(f"/console/deliveries?announcement={announcement_id}").text
    assert failed in by_announcement and ok not in by_announcement
    # A title or an address instead of an id: part of it, any case; "#12" as the log writes ids.
    by_title = client.get("/console/deliveries", params={"announcement": "HOI nghị"}).text
    assert failed in by_title and ok not in by_title
    by_address = client.get("/console/deliveries", params={"subscription": "MOT@example"}).text
    assert ok in by_address and failed not in by_address
    assert failed in client.get("/console/deliveries", params={"announcement": f"#{announcement_id}"}).text
    nothing = client.get("/console/deliveries", params={"subscription": "100%_không-có"})
    assert nothing.status_code == 200 and "0 tin gửi." in nothing.text
    # The subscriber's own page shows its recent deliveries with their attempts.
    own = client.get(f"/console/subscribers/{second}").text
    assert failed in own and "timed out" in own and "02/03/2026 08:02:03" in own


def test_replay_sends_one_delivery_again_and_comes_back(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    failed = delivered(subscriber("mot@example.vn"), "Tin lỗi", DeliveryStatus.FAILED, [(500, "HTTP 500")])
    back = "/console/deliveries?status=failed&page=1"
    response = post(client, f"/console/deliveries/{failed}/replay", token, {"next": back})
    assert response.status_code == 303 and response.headers["location"] == back
    assert status_of(failed) == "pending"
    assert "vào hàng gửi lại" in client.get("/console/deliveries").text
    evil = post(client, f"/console/deliveries/{failed}/replay", token, {"next": "https://evil.example/"})
    assert evil.headers["location"] == "/console/"
    assert post(client, "/console/deliveries/msg_" + "0" * 32 + "/replay", token).status_code == 404
    assert post(client, "/console/deliveries/not-an-id/replay", token).status_code == 404


def test_replay_without_the_csrf_token_changes_nothing(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    failed = delivered(subscriber("mot@example.vn"), "Tin lỗi", DeliveryStatus.FAILED, [(500, "HTTP 500")])
    response = client.post(f"/console/deliveries/{failed}/replay", data={}, headers={"Origin": ORIGIN})
    assert response.status_code == 403
    assert status_of(failed) == "failed"


def test_recover_requeues_a_subscribers_failures_since_a_local_time(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    sub_id = subscriber("mot@example.vn")
    failed = delivered(sub_id, "Tin lỗi", DeliveryStatus.FAILED, [(500, "HTTP 500")])
    ok = delivered(sub_id, "Tin tốt", DeliveryStatus.DELIVERED, [(200, None)])
    # 08:03 local is after the deliveries were made (08:02:03): nothing to recover.
    later = recover(client, token, str(sub_id), "2026-03-02T08:03")
    assert later.status_code == 303 and status_of(failed) == "failed"
    response = recover(client, token, str(sub_id), "02/03/2026 08:02")
    assert response.status_code == 303 and response.headers["location"] == f"/console/deliveries?subscription={sub_id}"
    assert status_of(failed) == "pending" and status_of(ok) == "delivered"
    assert f"Đã xếp lại 1 tin lỗi của người nhận #{sub_id}" in client.get(response.headers["location"]).text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"subscription": "", "since": "2026-03-02T08:00"}, "recover_subscription", "Nhập mã người nhận."),
        ({"subscription": "abc", "since": "2026-03-02T08:00"}, "recover_subscription", "số nguyên dương"),
        ({"subscription": "1", "since": ""}, "since", "Chọn ngày giờ bắt đầu."),
        ({"subscription": "1", "since": "31/02/2026 08:00"}, "since", "Ngày 31/02/2026 không có."),
        ({"subscription": "1", "since": "1900-01-01T00:00"}, "since", "Năm phải từ 1970 đến 2199."),
        ({"subscription": "1", "since": "2199-01-01T00:00"}, "since", "chưa đến"),
    ],
)
def test_recover_with_bad_input_says_which_field_and_changes_nothing(
    admin: tuple[TestClient, str], fields: dict[str, str], field: str, message: str
) -> None:
    client, token = admin
    failed = delivered(subscriber("mot@example.vn"), "Tin lỗi", DeliveryStatus.FAILED, [(500, "HTTP 500")])
    response = post(client, "/console/deliveries/recover", token, fields)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and message in response.text
    assert status_of(failed) == "failed"


def test_recover_for_a_paused_or_unknown_subscriber(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    sub_id = subscriber("mot@example.vn")
    failed = delivered(sub_id, "Tin lỗi", DeliveryStatus.FAILED, [(500, "HTTP 500")])
    assert post(client, f"/console/subscribers/{sub_id}/pause", token).status_code == 303
    paused = recover(client, token, str(sub_id), "2026-03-01T00:00")
    assert paused.status_code == 409 and "tạm dừng" in paused.text
    assert status_of(failed) == "failed"
    unknown = recover(client, token, "999", "2026-03-01T00:00")
    assert unknown.status_code == 404
    with session_scope() as session:
        assert session.scalars(select(Subscription.status)).one() == "paused"


def test_the_dashboard_counts_the_last_day(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    sub_id = subscriber("mot@example.vn")
    failed = delivered(sub_id, "Tin lỗi", DeliveryStatus.FAILED, [(500, "HTTP 500")])
    with session_scope() as session:
        delivery = session.get(Delivery, failed)
        assert delivery is not None
        delivery.next_attempt_at = datetime.now(UTC)
    page = client.get("/console/").text
    health = page.split("Gửi tin 24 giờ qua", 1)[1].split("</section>", 1)[0]
    assert '<a href="/console/deliveries?status=failed"><strong>1</strong> thất bại</a>' in health
    assert "<strong>0</strong> đã gửi" in health


def test_the_dashboard_shows_the_outbox_lag(admin: tuple[TestClient, str]) -> None:
    client, _ = admin

    def health() -> str:
        page: str = client.get("/console/").text
        return page.split("Gửi tin 24 giờ qua", 1)[1].split("</section>", 1)[0]

    assert "<strong>0 giây</strong> độ trễ" in health()
    with session_scope() as session:
        # An event saved ten minutes ago and never rendered: the worker is stuck.
        stuck = datetime.now(UTC) - timedelta(minutes=10)
        session.add(OutboxEvent(type="article.published", payload={}, created_at=stuck, next_attempt_at=stuck))
    shown = health()
    assert 'class="warn"' in shown
    seconds = int(shown.split("<strong>", 5)[5].split(" giây", 1)[0])
    assert 600 <= seconds < 700


def test_since_is_a_day_first_text_field_like_the_editors_schedule(admin: tuple[TestClient, str]) -> None:
    """A native datetime-local picker shows mm/dd/yyyy in an en-US browser; the console writes dd/mm/yyyy."""
    client, token = admin
    page = client.get("/console/deliveries").text
    field = re.search(r'<input id="since"[^>]*>', page)
    assert (
        field is not None
        and "datetime-local" not in field.group(0)
        and "placeholder" not in field.group(0)  # an example date would read as a value (decision 0026)
    )
    assert "dd/mm/yyyy HH:mm, giờ Asia/Ho_Chi_Minh" in page
    refused = recover(client, token, "1", "03/31/2026 08:00")  # month first: refused, shown back as typed
    assert refused.status_code == 422 and 'value="03/31/2026 08:00"' in refused.text
    assert "Không có tháng 31; tháng là từ 1 đến 12." in refused.text
