"""Issue 18, item 14 (decision 29): ``Idempotency-Key`` on every POST of the API, one
mechanism with article creation's semantics. The same key and request: the first answer
again (status, body, Location, ``Idempotent-Replayed``) and nothing done twice, also for
requests that arrive together; the same key and another request: 422 naming the header.
tests/integration/test_idempotency_pg.py runs the same scenarios on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.db.engine import get_engine, session_scope
from service.db.models import Base, Delivery, IdempotentRequest
from tests.unit.api.conftest import make_token

PUBLIC_HOOK = "https://93.184.215.14/bantin-hook"  # an IP literal: the egress guard asks no DNS
ARTICLE = {"title": "Kỷ niệm 97 năm Ngày thành lập Đảng", "body_html": "<p>Bài viết</p>"}
KEY_DATE = {"id": "ngay-thu", "name": "Ngày thử", "calendar": "solar", "day": 2, "month": 9}
# What a request may change besides its own effect: the token's last use, the key's own row.
NOT_EFFECTS = {"api_tokens", "idempotent_requests"}
CONCURRENT = 6


@dataclass(frozen=True)
class Call:
    url: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Prepared:
    """A request ready to send (``call``, with ``headers``), and another one (``other``) for the same key."""

    call: Call
    other: Call
    headers: dict[str, str]


def bearer(*scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(*scopes)}"}


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- one scenario per POST operation: what it needs, and the request -------------------------


def _article(client: TestClient) -> Prepared:
    return Prepared(
        Call("/api/v1/articles", ARTICLE), Call("/api/v1/articles", {**ARTICLE, "title": "Khác"}), bearer("admin")
    )


def _draft_of(client: TestClient, headers: dict[str, str]) -> int:
    return int(ok(client.post("/api/v1/articles", json={**ARTICLE, "status": "draft"}, headers=headers))["id"])


def _submit(client: TestClient) -> Prepared:
    admin = bearer("admin")
    first, second = _draft_of(client, admin), _draft_of(client, admin)
    return Prepared(Call(f"/api/v1/articles/{first}/submit"), Call(f"/api/v1/articles/{second}/submit"), admin)


def _in_review(client: TestClient) -> int:
    writer = bearer("write")
    article = _draft_of(client, writer)
    ok(client.post(f"/api/v1/articles/{article}/submit", headers=writer))
    return article


def _approve(client: TestClient) -> Prepared:
    article = _in_review(client)
    url = f"/api/v1/articles/{article}/approve"
    return Prepared(Call(url, {}), Call(url, {"publish_at": "2199-01-01T08:00:00+07:00"}), bearer("admin"))


def _return(client: TestClient) -> Prepared:
    article = _in_review(client)
    url = f"/api/v1/articles/{article}/return"
    return Prepared(Call(url, {"comment": "Sửa đoạn hai"}), Call(url, {"comment": "Khác"}), bearer("admin"))


def _correction(client: TestClient) -> Prepared:
    article = ok(client.post("/api/v1/articles", json=ARTICLE, headers=bearer("admin")))["id"]
    url = f"/api/v1/articles/{article}/corrections"
    body = {"wrong": "Ngày 2/2", "right": "Ngày 3/2"}
    return Prepared(Call(url, body), Call(url, {**body, "apology": True}), bearer("publish"))


def _subscription(client: TestClient) -> Prepared:
    body = {"channel": "webhook", "target": PUBLIC_HOOK}
    return Prepared(
        Call("/api/v1/subscriptions", body), Call("/api/v1/subscriptions", {**body, "locale": "en"}), bearer("admin")
    )


def _subscribed(client: TestClient, channel: str = "email", target: str = "ban-doc@vidu.vn") -> int:
    answer = client.post("/api/v1/subscriptions", json={"channel": channel, "target": target}, headers=bearer("admin"))
    return int(ok(answer)["id"])


def _rotate(client: TestClient) -> Prepared:
    first, second = _subscribed(client, "webhook", PUBLIC_HOOK), _subscribed(client, "webhook", PUBLIC_HOOK + "2")
    url = "/api/v1/subscriptions/{}/rotate-secret"
    return Prepared(Call(url.format(first)), Call(url.format(second)), bearer("admin"))


def _test_message(client: TestClient) -> Prepared:
    first, second = _subscribed(client), _subscribed(client, target="khac@vidu.vn")
    url = "/api/v1/subscriptions/{}/test"
    return Prepared(Call(url.format(first)), Call(url.format(second)), bearer("admin"))


def _failed_delivery(client: TestClient) -> tuple[int, str]:
    subscription = _subscribed(client)
    delivery = ok(client.post(f"/api/v1/subscriptions/{subscription}/test", headers=bearer("admin")))["delivery_id"]
    with session_scope() as session:  # as the sender leaves a delivery that gave up
        session.execute(update(Delivery).where(Delivery.id == delivery).values(status="failed"))
    return subscription, delivery


def _recover(client: TestClient) -> Prepared:
    subscription, _ = _failed_delivery(client)
    url = f"/api/v1/subscriptions/{subscription}/recover?since="
    return Prepared(Call(url + "2020-01-01T00:00:00Z"), Call(url + "2021-01-01T00:00:00Z"), bearer("admin"))


def _replay(client: TestClient) -> Prepared:
    _, delivery = _failed_delivery(client)
    return Prepared(
        Call(f"/api/v1/deliveries/{delivery}/replay"),
        Call(f"/api/v1/deliveries/{'msg_' + '0' * 32}/replay"),
        bearer("admin"),
    )


def _forget(client: TestClient) -> Prepared:
    _subscribed(client)
    url = "/api/v1/subscribers/forget"
    return Prepared(Call(url, {"target": "ban-doc@vidu.vn"}), Call(url, {"target": "khac@vidu.vn"}), bearer("admin"))


def _key_date(client: TestClient) -> Prepared:
    url = "/api/v1/calendar/key-dates"
    return Prepared(Call(url, KEY_DATE), Call(url, {**KEY_DATE, "day": 3}), bearer("admin"))


def _draft(client: TestClient) -> Prepared:
    ok(client.post("/api/v1/calendar/key-dates", json=KEY_DATE, headers=bearer("admin")))
    url = "/api/v1/calendar/key-dates/ngay-thu/draft?date="
    return Prepared(Call(url + "2027-09-02"), Call(url + "2028-09-02"), bearer("write"))


SCENARIOS: dict[str, Callable[[TestClient], Prepared]] = {
    "/api/v1/articles": _article,
    "/api/v1/articles/{article_id}/submit": _submit,
    "/api/v1/articles/{article_id}/approve": _approve,
    "/api/v1/articles/{article_id}/return": _return,
    "/api/v1/articles/{article_id}/corrections": _correction,
    "/api/v1/subscriptions": _subscription,
    "/api/v1/subscriptions/{subscription_id}/rotate-secret": _rotate,
    "/api/v1/subscriptions/{subscription_id}/test": _test_message,
    "/api/v1/subscriptions/{subscription_id}/recover": _recover,
    "/api/v1/deliveries/{delivery_id}/replay": _replay,
    "/api/v1/subscribers/forget": _forget,
    "/api/v1/calendar/key-dates": _key_date,
    "/api/v1/calendar/key-dates/{key_date_id}/draft": _draft,
}


# ---- what is checked ---------------------------------------------------------------------------


def stored_rows() -> dict[str, list[str]]:
    """Every row of every table a request can change, as text: equal before and after means nothing was done."""
    with get_engine().connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
            if table.name not in NOT_EFFECTS
        }


def send(client: TestClient, call: Call, headers: dict[str, str]) -> httpx.Response:
    if call.body is None:  # no body at all, not the JSON null
        response: httpx.Response = client.post(call.url, headers=headers)
    else:
        response = client.post(call.url, json=call.body, headers=headers)
    return response


def same_answer(first: httpx.Response, again: httpx.Response) -> None:
    assert again.status_code == first.status_code, again.text
    assert again.json() == first.json()
    assert again.headers.get("location") == first.headers.get("location")
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


def test_every_post_of_the_api_takes_the_key_and_has_a_scenario_here(raw_client: TestClient) -> None:
    document = raw_client.get("/openapi.json").json()
    posts = {path for path, item in document["paths"].items() if "post" in item and path.startswith("/api/v1/")}
    assert posts == set(SCENARIOS)
    for path in posts:
        headers = {p["name"] for p in document["paths"][path]["post"]["parameters"] if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path


@pytest.mark.parametrize("operation", SCENARIOS)
def test_the_same_key_and_request_get_the_first_answer_and_nothing_is_done_twice(
    raw_client: TestClient, operation: str
) -> None:
    prepared = SCENARIOS[operation](raw_client)
    headers = {**prepared.headers, "Idempotency-Key": f"lan-1 {operation}"}
    first = send(raw_client, prepared.call, headers)
    assert first.status_code < 300, first.text
    after_first = stored_rows()
    for _ in range(2):
        same_answer(first, send(raw_client, prepared.call, headers))
    assert stored_rows() == after_first
    # Without a key, the request is done again (where the resource allows): the key made the difference.
    with session_scope() as session:
        kept = session.scalars(select(IdempotentRequest)).one()
        assert kept.status_code == first.status_code and kept.response_body == first.json()


@pytest.mark.parametrize("operation", SCENARIOS)
def test_the_same_key_with_another_request_is_refused_naming_the_header(raw_client: TestClient, operation: str) -> None:
    prepared = SCENARIOS[operation](raw_client)
    headers = {**prepared.headers, "Idempotency-Key": "mot-khoa"}
    assert send(raw_client, prepared.call, headers).status_code < 300
    before = stored_rows()
    # Another body, path or query of the same operation; and another operation altogether.
    for other in (prepared.other, Call("/api/v1/articles", {**ARTICLE, "status": "draft"})):
        refused = send(raw_client, other, headers)
        assert refused.status_code == 422, (other, refused.text)
        assert refused.json()["detail"][0]["field"] == "Idempotency-Key"
    assert stored_rows() == before


@pytest.mark.parametrize("operation", SCENARIOS)
def test_requests_with_one_key_at_once_are_one_request(raw_client: TestClient, operation: str) -> None:
    prepared = SCENARIOS[operation](raw_client)
    headers = {**prepared.headers, "Idempotency-Key": "cung-luc"}
    start = threading.Barrier(CONCURRENT)
    app = raw_client.app

    def one(_: int) -> httpx.Response:
        client = TestClient(app, raise_server_exceptions=False)
        start.wait()
        return send(client, prepared.call, headers)

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        answers = list(pool.map(one, range(CONCURRENT)))
    originals = [answer for answer in answers if "idempotent-replayed" not in answer.headers]
    assert len(originals) == 1, [(a.status_code, a.text[:100]) for a in answers]
    for answer in answers:
        if answer is not originals[0]:
            same_answer(originals[0], answer)
    with session_scope() as session:
        assert len(session.scalars(select(IdempotentRequest)).all()) == 1


@pytest.mark.parametrize("undo", ["forget", "delete"])
def test_a_kept_answer_quoting_a_subscription_goes_when_it_is_forgotten_or_deleted(
    raw_client: TestClient, undo: str
) -> None:
    admin = bearer("admin")
    target = f"{undo}@vidu.vn"
    keyed = {**admin, "Idempotency-Key": f"dang-ky-{undo}"}
    created = ok(raw_client.post("/api/v1/subscriptions", json={"channel": "email", "target": target}, headers=keyed))

    def quoting() -> list[int]:
        with session_scope() as session:
            return [row.id for row in session.scalars(select(IdempotentRequest)) if target in str(row.response_body)]

    assert len(quoting()) == 1
    if undo == "forget":
        ok(raw_client.post("/api/v1/subscribers/forget", json={"target": target}, headers=admin))
    else:
        assert raw_client.delete(f"/api/v1/subscriptions/{created['id']}", headers=admin).status_code == 204
    assert quoting() == []  # Decree 13/2023: nothing of the address is kept after forget


def test_a_key_a_header_cannot_carry_unchanged_is_refused_as_the_document_says(raw_client: TestClient) -> None:
    document = raw_client.get("/openapi.json").json()
    [schema] = [p["schema"] for p in document["paths"]["/api/v1/articles"]["post"]["parameters"] if p["in"] == "header"]
    assert schema["anyOf"][0]["maxLength"] == 255 and "pattern" in schema["anyOf"][0]
    admin = bearer("admin")
    # Empty, only spaces, too long, not ASCII (UTF-8 bytes on the wire), a control character.
    for key in (b"", b"   ", b"x" * 256, "kh\u00f3a".encode(), b"a\tb"):
        refused = raw_client.post("/api/v1/articles", json=ARTICLE, headers={**admin, "Idempotency-Key": key})
        assert refused.status_code == 422, key
        assert refused.json()["detail"][0]["field"] == "Idempotency-Key"
    for taken in (b"a", b"x" * 255, b" bai 97 nam "):
        answer = raw_client.post("/api/v1/articles", json=ARTICLE, headers={**admin, "Idempotency-Key": taken})
        assert answer.status_code == 201, taken
