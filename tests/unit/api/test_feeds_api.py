from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from fastapi.testclient import TestClient

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.types import utcnow
from service.feeds.publish import render_scope
from tests.feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss

ARTICLE = {"title": "Kỷ niệm 97 năm", "body_html": "<p>Nội dung</p>", "categories": ["Xây dựng Đảng"]}


def publish_and_render(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = client.post("/api/v1/articles", json=ARTICLE, headers=headers).json()
    # The worker's job, done in-process here; integration tests use the real worker.
    with session_scope() as session:
        for scope in ("site", "category:xay-dung-dang"):
            render_scope(session, scope, utcnow(), get_settings())
    return body


def test_empty_site_feeds_answer_on_a_fresh_install(client: TestClient) -> None:
    assert assert_valid_atom(client.get("/feeds/atom.xml").content).entries == []
    assert assert_valid_rss(client.get("/feeds/rss.xml").content).entries == []
    assert assert_valid_json_feed(client.get("/feeds/feed.json").content)["items"] == []


def test_feed_headers(client: TestClient, publisher: dict[str, str]) -> None:
    publish_and_render(client, publisher)
    expected = {
        "rss.xml": "application/rss+xml; charset=utf-8",
        "atom.xml": "application/atom+xml; charset=utf-8",
        "feed.json": "application/feed+json; charset=utf-8",
    }
    for filename, content_type in expected.items():
        response = client.get(f"/feeds/categories/xay-dung-dang/{filename}")
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) > 10
        assert response.headers["last-modified"].endswith("GMT")
        assert "max-age=" in response.headers["cache-control"]
        self_url = f"https://bantin.example.vn/feeds/categories/xay-dung-dang/{filename}"
        hub = "https://bantin.example.vn/websub"
        assert response.headers["link"] == f'<{self_url}>; rel="self", <{hub}>; rel="hub"'


def test_conditional_requests_answer_304(client: TestClient, publisher: dict[str, str]) -> None:
    publish_and_render(client, publisher)
    first = client.get("/feeds/atom.xml")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/feeds/atom.xml", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feeds/atom.xml", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get("/feeds/atom.xml", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/feeds/atom.xml", headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert client.get("/feeds/atom.xml", headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get("/feeds/atom.xml", headers={"If-Modified-Since": "garbage"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert client.get("/feeds/atom.xml", headers=both).status_code == 200


def test_unknown_category_and_filename_are_404(client: TestClient) -> None:
    assert client.get("/feeds/categories/khong-co/atom.xml").status_code == 404
    assert client.get("/feeds/atom.txt").status_code == 404


def test_article_page_serves_published_and_redirects_old_slugs(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish_and_render(client, publisher)
    page = client.get(f"/articles/{article['id']}/{article['slug']}")
    assert page.status_code == 200 and "Kỷ niệm 97 năm" in page.text
    moved = client.get(f"/articles/{article['id']}/old-slug", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == article["url"]
    client.delete(f"/api/v1/articles/{article['id']}", headers=publisher)
    assert client.get(f"/articles/{article['id']}/{article['slug']}").status_code == 410


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_metrics_count_what_waits(client: TestClient, publisher: dict[str, str]) -> None:
    client.post("/api/v1/articles", json=ARTICLE, headers=publisher)  # its event is not handled in-process
    body = client.get("/metrics")
    assert body.headers["content-type"].startswith("text/plain; version=0.0.4")
    lag = next(line for line in body.text.splitlines() if line.startswith("bantin_outbox_lag_seconds "))
    assert float(lag.split()[1]) >= 0
    assert "bantin_database_up 1.0\n" in body.text


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_a_browser_gets_rss_and_atom_as_xml_it_renders_and_a_reader_the_same_bytes(
    client: TestClient, publisher: dict[str, str]
) -> None:
    """Chromium shows application/rss+xml and application/atom+xml as plain text and never
    applies their stylesheet: a browser (it asks for text/html) gets them as application/xml."""
    publish_and_render(client, publisher)
    registered = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml"}
    for filename, feed_type in registered.items():
        path = f"/feeds/{filename}"
        for coding in ("identity", "gzip", "br"):
            reader = client.get(path, headers={"Accept-Encoding": coding, "Accept": "application/atom+xml, */*"})
            browser = client.get(path, headers={"Accept-Encoding": coding, "Accept": BROWSER_ACCEPT})
            assert reader.headers["content-type"] == f"{feed_type}; charset=utf-8"
            assert browser.headers["content-type"] == "application/xml; charset=utf-8"
            assert browser.content == reader.content and browser.headers["etag"] == reader.headers["etag"]
            assert browser.headers["vary"] == reader.headers["vary"] == "Accept-Encoding, Accept"
            revalidated = client.get(
                path,
                headers={"Accept-Encoding": coding, "Accept": BROWSER_ACCEPT, "If-None-Match": reader.headers["etag"]},
            )
            assert revalidated.status_code == 304
        refused_html = client.get(path, headers={"Accept": "text/html;q=0, application/xml"})
        assert refused_html.headers["content-type"] == f"{feed_type}; charset=utf-8"
    # JSON Feed: browsers show JSON as it is; its type never changes.
    json_feed = client.get("/feeds/feed.json", headers={"Accept": BROWSER_ACCEPT})
    assert json_feed.headers["content-type"] == "application/feed+json; charset=utf-8"
    assert json_feed.headers["vary"] == "Accept-Encoding"
