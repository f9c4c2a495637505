"""Feeds, /calendar.ics and /healthz as served: variants, validators, HEAD, negotiation, the cache."""

import asyncio
import gzip
from datetime import timedelta
from email.utils import parsedate_to_datetime

import brotli
import pytest
from fastapi.testclient import TestClient

from config.settings import get_settings
from service.api.document_cache import DocumentCache, Entry, Generations
from service.articles.categories import create_listed_category
from service.db.engine import session_scope
from service.db.types import utcnow
from service.feeds.documents import store_document
from service.web.negotiation import choose_coding
from tests.unit.api.conftest import make_token
from tests.unit.api.test_feeds_api import publish_and_render

PUBLIC = ("/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/calendar.ics", "/healthz")


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, None),
        ("", None),
        ("gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0, br;q=0", None),
        ("br;q=0", None),
        ("GZIP;Q=0.9, identity;q=0.5", "gzip"),
        ("x-gzip", "gzip"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("identity", None),
        ("identity;q=0, gzip;q=0.1", "gzip"),
        ("*;q=0, identity;q=0", None),  # nothing acceptable: identity rather than 406
        ("gzip;q=nonsense", None),
        ("deflate, compress", None),
        ("gzip;q=0.001, identity;q=0", "gzip"),
    ],
)
def test_accept_encoding_is_negotiated_with_q_values(header: str | None, coding: str | None) -> None:
    assert choose_coding(header) == coding


def test_variants_decode_to_the_same_bytes_with_their_own_strong_etags(
    client: TestClient, publisher: dict[str, str]
) -> None:
    publish_and_render(client, publisher)
    plain = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "identity"})
    # Vary names Accept too: a browser gets RSS and Atom as application/xml (decision 33).
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding, Accept"
    etags = {plain.headers["etag"]}
    for coding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        response = client.get("/feeds/atom.xml", headers={"Accept-Encoding": coding})
        assert response.headers["content-encoding"] == coding
        assert response.headers["vary"] == "Accept-Encoding, Accept"
        assert response.content == plain.content  # as httpx decodes it
        with client.stream("GET", "/feeds/atom.xml", headers={"Accept-Encoding": coding}) as streamed:
            raw = b"".join(streamed.iter_raw())
        assert raw != plain.content and decode(raw) == plain.content  # the bytes on the wire
        assert int(response.headers["content-length"]) < len(plain.content)
        assert not response.headers["etag"].startswith("W/")
        etags.add(response.headers["etag"])
        assert response.headers["last-modified"] == plain.headers["last-modified"]
    assert len(etags) == 3


def test_each_variant_answers_304_only_to_its_own_etag(client: TestClient, publisher: dict[str, str]) -> None:
    publish_and_render(client, publisher)
    by_coding = {
        coding: client.get("/feeds/rss.xml", headers={"Accept-Encoding": coding}).headers["etag"]
        for coding in ("gzip", "br", "identity")
    }
    for coding, etag in by_coding.items():
        same = client.get("/feeds/rss.xml", headers={"Accept-Encoding": coding, "If-None-Match": etag})
        assert same.status_code == 304 and same.headers["etag"] == etag and same.content == b""
        for other, other_etag in by_coding.items():
            if other != coding:
                response = client.get("/feeds/rss.xml", headers={"Accept-Encoding": other, "If-None-Match": etag})
                assert response.status_code == 200 and response.headers["etag"] == other_etag


@pytest.mark.parametrize("path", PUBLIC)
def test_every_public_get_answers_head_with_the_same_headers_and_no_body(client: TestClient, path: str) -> None:
    for encoding in ("identity", "gzip, br"):
        get = client.get(path, headers={"Accept-Encoding": encoding})
        head = client.head(path, headers={"Accept-Encoding": encoding})
        assert get.status_code == head.status_code == 200
        assert head.content == b""
        # Date and the request id differ from one request to the next by design.
        per_request = {"date", "x-request-id"}
        assert get.headers["x-request-id"] and head.headers["x-request-id"]
        without = {k: v for k, v in get.headers.items() if k not in per_request}
        assert {k: v for k, v in head.headers.items() if k not in per_request} == without


@pytest.mark.parametrize("path", ["/metrics", "/api/v1/articles", "/openapi.json"])
def test_head_works_on_every_other_get_route_too(client: TestClient, publisher: dict[str, str], path: str) -> None:
    get = client.get(path, headers=publisher)
    head = client.head(path, headers=publisher)
    assert get.status_code == head.status_code == 200 and head.content == b"" and get.content
    if path != "/metrics":  # every request changes the counters /metrics reports, so its length moves
        assert head.headers["content-length"] == get.headers["content-length"]
    assert int(head.headers["content-length"]) > 0
    assert head.headers["content-type"] == get.headers["content-type"]


def test_head_of_a_missing_route_is_404_without_a_body(client: TestClient) -> None:
    response = client.head("/no-such-route")
    assert response.status_code == 404 and response.content == b""


def test_last_modified_moves_with_every_change_even_within_a_second(
    client: TestClient, publisher: dict[str, str]
) -> None:
    publish_and_render(client, publisher)
    first = client.get("/feeds/atom.xml")
    publish_and_render(client, publisher)  # well within the same second
    second = client.get("/feeds/atom.xml")
    assert first.headers["etag"] != second.headers["etag"]
    before = parsedate_to_datetime(first.headers["last-modified"])
    after = parsedate_to_datetime(second.headers["last-modified"])
    assert after - before >= timedelta(seconds=1)
    # A reader that sends only If-Modified-Since gets the new bytes.
    again = client.get("/feeds/atom.xml", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert again.status_code == 200 and again.content == second.content


def test_calendar_ics_has_validators_304_and_variants(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    first = client.get("/calendar.ics")
    assert first.headers["etag"] and first.headers["last-modified"]
    assert first.headers["content-disposition"] == 'inline; filename="bantin.ics"'
    assert client.get("/calendar.ics", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    since = {"If-Modified-Since": first.headers["last-modified"]}
    assert client.get("/calendar.ics", headers=since).status_code == 304
    assert client.get("/calendar.ics", headers={"Accept-Encoding": "br"}).headers["content-encoding"] == "br"
    # A new key date marks the calendar for rendering; beat's tick renders it (here in-process).
    created = client.post(
        "/api/v1/calendar/key-dates",
        json={"id": "ngay-moi", "name": "Ngày Đổi mới", "calendar": "solar", "day": 18, "month": 12},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert client.get("/calendar.ics").headers["etag"] == first.headers["etag"]  # not rendered in the request
    tick()
    second = client.get("/calendar.ics")
    assert second.headers["etag"] != first.headers["etag"] and "Ngày Đổi mới".encode() in second.content
    assert client.get("/calendar.ics", headers=since).status_code == 200
    assert not tick()  # nothing changed since: not rendered again today
    client.delete("/api/v1/calendar/key-dates/ngay-moi", headers=admin)
    assert tick()
    assert "Ngày Đổi mới".encode() not in client.get("/calendar.ics").content


def tick() -> bool:
    """What beat's calendar.tick does for /calendar.ics."""
    from service import clock
    from service.calendar.service import refresh_calendar

    with session_scope() as session:
        return refresh_calendar(session, clock.now(get_settings()), get_settings())


def test_rendering_the_calendar_again_without_a_change_keeps_its_etag(client: TestClient) -> None:
    from service.calendar.service import render_calendar

    etag = client.get("/calendar.ics").headers["etag"]
    with session_scope() as session:
        assert not render_calendar(session, utcnow() + timedelta(minutes=5), get_settings())
    assert client.get("/calendar.ics").headers["etag"] == etag


def test_unknown_feeds_are_404_with_a_reason(client: TestClient) -> None:
    for path in ("/feeds/categories/khong-co/atom.xml", "/feeds/atom.txt", "/feeds/a/b", "/feeds/categories//rss.xml"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["detail"]
        assert client.head(path).status_code == 404


def test_the_cache_drops_everything_when_the_generation_moves() -> None:
    generation = [1]
    loads: list[tuple[str, str]] = []

    def loader(scope: str, fmt: str) -> Entry:
        loads.append((scope, fmt))
        return Entry({}, float(len(loads)))

    async def scenario() -> None:
        cache = DocumentCache(3600, loader=loader, generation=lambda: Generations(generation[0], 1))
        first = await cache.get("site", "atom")
        assert await cache.get("site", "atom") is first and len(loads) == 1
        generation[0] = 2
        # Within the recheck interval the copy is served; this test's interval is an hour.
        assert await cache.get("site", "atom") is first
        cache.recheck_seconds = 0
        assert await cache.get("site", "atom") is not first and len(loads) == 2

    asyncio.run(scenario())


def test_a_failed_check_serves_nothing_unverified() -> None:
    calls = [0]

    def generation() -> Generations:
        calls[0] += 1
        if calls[0] == 2:
            raise OSError("database unreachable")
        return Generations(1, 1)

    async def scenario() -> None:
        cache = DocumentCache(0, loader=lambda s, f: Entry({}, 0.0), generation=generation)
        first = await cache.get("site", "atom")
        with pytest.raises(OSError):
            await cache.get("site", "atom")
        assert await cache.get("site", "atom") is not first  # read again, not the old copy

    asyncio.run(scenario())


def test_stored_bytes_are_served_at_once_after_a_change(client: TestClient) -> None:
    with session_scope() as session:
        create_listed_category(session, "Thu", utcnow())  # a category's feeds are served while it is public
        store_document(session, "category:thu", "json", b'{"a":1}', utcnow())
    assert client.get("/feeds/categories/thu/feed.json").content == b'{"a":1}'
    with session_scope() as session:
        store_document(session, "category:thu", "json", b'{"a":2}', utcnow())
    assert client.get("/feeds/categories/thu/feed.json").content == b'{"a":2}'


def test_the_calendar_follows_the_date_at_most_once_a_day(client: TestClient) -> None:
    from datetime import UTC, datetime

    from service.calendar.service import refresh_calendar

    december = datetime(2027, 12, 31, 10, 0, tzinfo=UTC)  # 17:00 in Hà Nội
    with session_scope() as session:
        assert refresh_calendar(session, december, get_settings())  # an earlier day than the start's render
        assert not refresh_calendar(session, december + timedelta(hours=6), get_settings())  # same local day
    covered = client.get("/calendar.ics").text
    assert "2027" in covered and "2028" in covered and "2029" not in covered
    with session_scope() as session:
        assert refresh_calendar(session, december + timedelta(hours=8), get_settings())  # 1 January 2028, local
    covered = client.get("/calendar.ics").text
    assert "2029" in covered and "-2027-" not in covered  # no 2027 occurrence (UIDs carry the date)
