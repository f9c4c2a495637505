"""Feeds kept in memory by several API processes: a change is seen everywhere within a
second, and a restarted process never serves older bytes than the database holds."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import create_engine, text

from tests.integration.conftest import in_process_database
from tests.integration.stack import Stack, free_port, wait_until


def stored_atom(stack: Stack) -> tuple[bytes, str]:
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT body, etag FROM feed_documents WHERE scope = 'site' AND format = 'atom'")
            ).one()
        return bytes(row[0]), str(row[1])
    finally:
        engine.dispose()


def start_second_api(stack: Stack) -> str:
    port = free_port()
    stack.start("api2", "api", "--port", str(port), "--no-migrate")
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, 30, "the second API to answer")
    return base


def publish(publisher: httpx.Client, title: str) -> str:
    response = publisher.post("/api/v1/articles", json={"title": title, "body_html": "<p>Nội dung</p>"})
    assert response.status_code == 201, response.text
    guid: str = response.json()["guid"]
    return guid


def test_a_change_reaches_every_api_process_within_a_second(stack: Stack, publisher: httpx.Client) -> None:
    second = start_second_api(stack)
    try:
        apis = [stack.base_url, second]
        for base in apis:  # both keep the current feed in memory
            for encoding in ("identity", "gzip", "br"):
                assert httpx.get(f"{base}/feeds/atom.xml", headers={"Accept-Encoding": encoding}).status_code == 200
        guid = publish(publisher, "Tin mới cho mọi tiến trình")
        wait_until(lambda: guid.encode() in stored_atom(stack)[0], 10, "the worker to render the feed", 0.005)
        body, etag = stored_atom(stack)
        time.sleep(1.0)  # the promise: within one second of the commit
        for base in apis:
            for encoding in ("identity", "gzip", "br"):
                response = httpx.get(f"{base}/feeds/atom.xml", headers={"Accept-Encoding": encoding})
                assert response.content == body, f"{base} ({encoding}) still serves older bytes"
                assert response.headers["etag"].startswith(etag[:-1])

        # Stopped while the feed changes, then started again: the first answer is current.
        stack.stop("api2")
        guid = publish(publisher, "Tin trong lúc tiến trình thứ hai nghỉ")
        wait_until(lambda: guid.encode() in stored_atom(stack)[0], 10, "the worker to render the feed", 0.005)
        second = start_second_api(stack)
        response = httpx.get(f"{second}/feeds/atom.xml", headers={"Accept-Encoding": "identity"})
        assert guid.encode() in response.content and response.headers["etag"] == stored_atom(stack)[1]
    finally:
        stack.stop("api2")


def test_calendar_head_and_304_on_a_real_process(stack: Stack) -> None:
    get = httpx.get(f"{stack.base_url}/calendar.ics", headers={"Accept-Encoding": "gzip"})
    head = httpx.head(f"{stack.base_url}/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert get.status_code == head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"] and head.headers["content-encoding"] == "gzip"
    again = httpx.get(
        f"{stack.base_url}/calendar.ics", headers={"If-None-Match": get.headers["etag"], "Accept-Encoding": "identity"}
    )
    assert again.status_code == 200  # identity asked for: a different variant, a different ETag
    same = httpx.get(
        f"{stack.base_url}/calendar.ics", headers={"If-None-Match": get.headers["etag"], "Accept-Encoding": "gzip"}
    )
    assert same.status_code == 304


def test_processes_hear_of_a_change_when_it_commits_and_not_before(stack: Stack) -> None:
    from service.api.document_cache import DocumentCache, Generations, start_listening
    from service.feeds.documents import CHANGES_CHANNEL

    cache = DocumentCache(3600, loader=lambda s, f: None, generation=lambda: Generations(0, 0))
    listener = start_listening(cache, stack.env["BANTIN_DATABASE_URL"])
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
    try:
        wait_until(lambda: cache.notified >= 1, 10, "the listener to connect")
        heard = cache.notified
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANGES_CHANNEL})
            connection.rollback()  # a render that fails says nothing
            connection.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANGES_CHANNEL})
            time.sleep(0.3)
            assert cache.notified == heard  # not before the commit
            connection.commit()
        wait_until(lambda: cache.notified == heard + 1, 5, "the notification")
    finally:
        engine.dispose()
        listener.stop()  # before the stack's database is dropped


def test_an_application_stops_listening_when_it_shuts_down() -> None:
    # A listening thread that outlived its application would find its database dropped and
    # log a lost connection every second, at the end into streams pytest has closed.
    before = set(threading.enumerate())
    with in_process_database("postgresql"):
        from service.api.app import create_app

        with TestClient(create_app()) as client:
            assert client.get("/healthz").status_code == 200
            listening = [t for t in set(threading.enumerate()) - before if t.name == "bantin-document-changes"]
            assert len(listening) == 1, listening
        assert not listening[0].is_alive()


def test_page_304s_end_on_every_api_process_when_an_article_is_published(stack: Stack, publisher: httpx.Client) -> None:
    second = start_second_api(stack)
    try:
        apis = [stack.base_url, second]
        held = {base: httpx.get(f"{base}/").headers["etag"] for base in apis}
        for base in apis:  # answered from memory until something changes
            assert httpx.get(f"{base}/", headers={"If-None-Match": held[base]}).status_code == 304
        title = "Tin mới làm đổi mọi trang"
        publish(publisher, title)
        time.sleep(1.0)  # the promise: within one second of the commit, on every process
        for base in apis:
            response = httpx.get(f"{base}/", headers={"If-None-Match": held[base]})
            assert response.status_code == 200, f"{base} still answers 304 for the page before the publish"
            assert title in response.text and response.headers["etag"] != held[base]
            assert httpx.get(f"{base}/", headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    finally:
        stack.stop("api2")


def test_a_deep_page_on_postgresql_shows_every_write_to_its_cards(stack: Stack, publisher: httpx.Client) -> None:
    # A page deep in a listing is read through the driver's cursor on PostgreSQL
    # (service/site/pages.py) and its cards are kept by what they show
    # (service/web/cards.py): an edit and a withdrawal reach it, a newer article moves its
    # ETag without changing it, and its Last-Modified is an HTTP date (an instant in UTC).
    def made(title: str) -> int:
        response = publisher.post(
            "/api/v1/articles", json={"title": title, "body_html": "<p>Nội dung</p>", "categories": ["Trang sâu"]}
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def titles(path: str) -> list[str]:
        response = httpx.get(f"{stack.base_url}{path}")
        assert response.status_code == 200, response.text
        assert response.headers["last-modified"].endswith(" GMT")
        shown: Any = html.fromstring(response.content).xpath("//h2[@class='card__title']/a/text()")
        return [str(t) for t in shown if str(t).startswith("Trang sâu")]

    ids = [made(f"Trang sâu {n}") for n in range(4)]
    paths = [f"/?before={ids[3]}", f"/?before={ids[3]}&lang=en", f"/categories/trang-sau?before={ids[3]}"]
    for path in paths:
        assert titles(path) == ["Trang sâu 2", "Trang sâu 1", "Trang sâu 0"], path

    edited = publisher.patch(f"/api/v1/articles/{ids[2]}", json={"title": "Trang sâu 2, đã sửa"})
    assert edited.status_code == 200, edited.text
    withdrawn = publisher.delete(f"/api/v1/articles/{ids[1]}")
    assert withdrawn.status_code in (200, 204), withdrawn.text
    time.sleep(1.0)  # the promise: within a second of the commit
    for path in paths:
        assert titles(path) == ["Trang sâu 2, đã sửa", "Trang sâu 0"], path

    etag = httpx.get(f"{stack.base_url}{paths[0]}").headers["etag"]
    made("Trang sâu 4")
    time.sleep(1.0)
    response = httpx.get(f"{stack.base_url}{paths[0]}", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["etag"] != etag
    assert titles(paths[0]) == ["Trang sâu 2, đã sửa", "Trang sâu 0"]
