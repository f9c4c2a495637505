"""Public pages validated by the site's generation: 304s and repeated 200s without a read
of the articles, and an ETag that moves with every article write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import event

from service.db.engine import get_engine
from service.web.http import is_page_path
from tests.unit.api.test_pages import BASE, SEED, path_of, publish


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile (on this process's engine)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_articles(seen: list[str]) -> bool:
    return any("FROM articles" in s or "JOIN articles" in s or "article_categories" in s for s in seen)


def test_a_page_304_and_a_repeated_200_read_no_article(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    for path in ("/", "/categories/thoi-su", path_of(article), "/?before=999999"):
        first = client.get(path)
        if path.startswith("/?before"):
            assert first.status_code == 404  # a page that does not exist is never cached
            with statements() as seen:
                assert client.get(path).status_code == 404
            assert reads_articles(seen)
            continue
        etag = first.headers["etag"]
        with statements() as seen:
            not_modified = client.get(path, headers={"If-None-Match": etag})
            again = client.get(path)
            head = client.head(path, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert not_modified.headers["cache-control"].startswith("public, max-age=")
        assert "default-src 'none'" in not_modified.headers["content-security-policy"]
        assert again.status_code == 200 and again.content == first.content and again.headers["etag"] == etag
        assert head.status_code == 304
        # Only the generation check runs: one small query, no article, no category link.
        assert not reads_articles(seen), seen


def test_if_none_match_star_is_304_only_for_a_page_that_exists(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    assert client.get(path_of(article), headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/categories/khong-co", headers={"If-None-Match": "*"}).status_code == 404
    assert client.get("/articles/99999/khong-co", headers={"If-None-Match": "*"}).status_code == 404


def test_publishing_an_article_changes_every_page_etag(client: TestClient, publisher: dict[str, str]) -> None:
    first = publish(client, publisher)
    paths = ("/", "/categories/thoi-su", path_of(first))
    etags = {path: client.get(path).headers["etag"] for path in paths}
    second = publish(client, publisher, title="Đà Nẵng khánh thành cầu mới", categories=["Thời sự"])
    for path in paths:
        response = client.get(path, headers={"If-None-Match": etags[path]})
        assert response.status_code == 200, path
        assert response.headers["etag"] != etags[path]
    assert second["title"] in client.get("/", headers={"If-None-Match": etags["/"]}).text
    # Withdrawn: its page is gone, though the client still holds the page's old ETag.
    etag = client.get(path_of(second)).headers["etag"]
    client.delete(f"/api/v1/articles/{second['id']}", headers=publisher)
    assert client.get(path_of(second), headers={"If-None-Match": etag}).status_code == 410
    assert second["title"] not in client.get("/categories/thoi-su").text


def test_a_category_page_follows_the_article_in_and_out_of_it(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher, title="Lễ hội pháo hoa quốc tế", categories=["Du lịch"])
    assert article["title"] in client.get("/categories/du-lich").text
    moved = client.patch(f"/api/v1/articles/{article['id']}", json={"categories": ["Văn hóa"]}, headers=publisher)
    assert moved.status_code == 200
    assert article["title"] not in client.get("/categories/du-lich").text
    assert article["title"] in client.get("/categories/van-hoa").text
    drafted = client.patch(f"/api/v1/articles/{article['id']}", json={"status": "draft"}, headers=publisher)
    assert drafted.status_code == 200
    assert article["title"] not in client.get("/categories/van-hoa").text
    again = client.patch(f"/api/v1/articles/{article['id']}", json={"status": "published"}, headers=publisher)
    assert again.status_code == 200
    assert article["title"] in client.get("/categories/van-hoa").text


def test_category_pages_page_by_keyset_on_the_copied_dates(
    client: TestClient, publisher: dict[str, str], settings_override: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings

    settings_override.setenv("BANTIN_PAGE_SIZE", "2")
    get_settings.cache_clear()
    days = [f"2026-01-0{d}T08:00:00+07:00" for d in (3, 1, 5, 2, 4)]
    ids = {
        day: publish(client, publisher, title=f"Tin {day}", categories=["Y tế"], publish_at=day)["id"] for day in days
    }
    seen: list[int] = []
    path: str | None = "/categories/y-te"
    while path:
        page: Any = html.fromstring(client.get(path).content)
        seen += [int(h.split("/")[-2]) for h in page.xpath("//h2[@class='card__title']/a/@href")]
        older = page.xpath("//a[@rel='next']/@href")
        path = str(older[0]).removeprefix(BASE) if older else None
    newest_first = [ids[day] for day in sorted(days, reverse=True)]
    assert seen == newest_first
    assert SEED["title"] not in client.get("/categories/y-te").text


def cards_of(page: bytes) -> list[str]:
    """The titles a listing page shows, in order."""
    tree: Any = html.fromstring(page)
    return [str(t) for t in tree.xpath("//h2[@class='card__title']/a/text()")]


def test_a_deep_page_shows_every_write_to_its_cards_in_both_languages(
    client: TestClient, publisher: dict[str, str], settings_override: pytest.MonkeyPatch
) -> None:
    # Cards are kept in memory by what they show (service/web/cards.py), pages by the
    # site's generation: neither may serve a card that an edit or a withdrawal changed.
    from config.settings import get_settings

    settings_override.setenv("BANTIN_PAGE_SIZE", "2")
    get_settings.cache_clear()
    ids = [publish(client, publisher, title=f"Tin số {n}", categories=["Thời sự"])["id"] for n in range(5)]
    deep = {lang: f"/?before={ids[3]}{lang}" for lang in ("", "&lang=en")}
    category = f"/categories/thoi-su?before={ids[3]}"
    for path in (*deep.values(), category):
        assert cards_of(client.get(path).content) == ["Tin số 2", "Tin số 1"], path
    etag = client.get(deep[""]).headers["etag"]

    edited = client.patch(f"/api/v1/articles/{ids[2]}", json={"title": "Tin số 2, đã sửa"}, headers=publisher)
    assert edited.status_code == 200, edited.text
    for path in (*deep.values(), category):
        assert cards_of(client.get(path).content) == ["Tin số 2, đã sửa", "Tin số 1"], path
    english = client.get(deep["&lang=en"]).text
    assert '<html lang="en"' in english and f"/articles/{ids[2]}/tin-so-2-da-sua?lang=en" in english

    assert client.delete(f"/api/v1/articles/{ids[1]}", headers=publisher).status_code in (200, 204)
    for path in (*deep.values(), category):
        assert cards_of(client.get(path).content) == ["Tin số 2, đã sửa", "Tin số 0"], path

    # A write elsewhere (a newer article, a correction) leaves the cards as they were but
    # moves the page's ETag: a client's copy is checked again, never answered 304.
    etag = client.get(deep[""]).headers["etag"]
    publish(client, publisher, title="Tin mới nhất", categories=["Thời sự"])
    after_publish = client.get(deep[""], headers={"If-None-Match": etag})
    assert after_publish.status_code == 200 and after_publish.headers["etag"] != etag
    assert cards_of(after_publish.content) == ["Tin số 2, đã sửa", "Tin số 0"]
    fix = {"wrong": "Sai ngày.", "right": "Đúng ngày.", "apology": False}
    corrected = client.post(f"/api/v1/articles/{ids[0]}/corrections", json=fix, headers=publisher)
    assert corrected.status_code == 201, corrected.text
    after_fix = client.get(deep[""], headers={"If-None-Match": after_publish.headers["etag"]})
    assert after_fix.status_code == 200 and after_fix.headers["etag"] != after_publish.headers["etag"]


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/", True),
        ("/categories/thoi-su", True),
        ("/articles/12/tin-moi", True),
        ("/categories/", False),
        ("/categories/thoi-su/feed.json", False),
        ("/articles/12", False),
        ("/articles/12/", False),
        ("/feeds/atom.xml", False),
        ("/sitemap.xml", False),
        ("/static/site.css", False),
    ],
)
def test_which_paths_are_pages(path: str, page: bool) -> None:
    assert is_page_path(path) is page
