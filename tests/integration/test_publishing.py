"""The publishing spine end to end: HTTP API → outbox → real Celery worker → stored feeds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import create_engine, text

from tests.feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from tests.integration.stack import Stack, wait_until

FEEDS = ("rss.xml", "atom.xml", "feed.json")


def guids_in(client: httpx.Client, path: str) -> list[str]:
    response = client.get(path)
    if response.status_code != 200:
        return []
    if path.endswith(".json"):
        return [item["id"] for item in assert_valid_json_feed(response.content)["items"]]
    check = assert_valid_atom if path.endswith("atom.xml") else assert_valid_rss
    return [entry.id for entry in check(response.content).entries]


def feed_paths(category_slug: str) -> list[str]:
    return [f"/feeds/{f}" for f in FEEDS] + [f"/feeds/categories/{category_slug}/{f}" for f in FEEDS]


def test_published_article_reaches_site_and_category_feeds_within_two_seconds(
    publisher: httpx.Client, anonymous: httpx.Client, unique: str
) -> None:
    category = f"Xây dựng Đảng {unique}"
    response = publisher.post(
        "/api/v1/articles",
        json={
            "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)",
            "body_html": '<p>Nội dung <a href="/lich-su">lịch sử</a></p><script>alert(1)</script>',
            "categories": [category],
            "author": "Ban Tuyên giáo",
        },
    )
    assert response.status_code == 201, response.text
    article = response.json()
    posted = time.monotonic()
    slug = f"xay-dung-dang-{unique}"
    for path in feed_paths(slug):

        def listed(p: str = path) -> bool:
            return article["guid"] in guids_in(anonymous, p)

        wait_until(listed, 2.0 - (time.monotonic() - posted), path)

    atom = assert_valid_atom(anonymous.get(f"/feeds/categories/{slug}/atom.xml").content)
    entry = atom.entries[0]
    assert entry.title == "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"
    assert entry.link == article["url"]
    assert entry.author == "Ban Tuyên giáo"
    assert f'href="{str(anonymous.base_url).rstrip("/")}/lich-su"' in entry.content[0].value
    assert "<script" not in entry.content[0].value
    rss = assert_valid_rss(anonymous.get(f"/feeds/categories/{slug}/rss.xml").content)
    assert rss.entries[0].published_parsed is not None


def test_patch_updates_the_feeds_and_keeps_the_guid(
    publisher: httpx.Client, anonymous: httpx.Client, unique: str
) -> None:
    article = publisher.post(
        "/api/v1/articles", json={"title": f"Bản nháp {unique}", "body_html": "<p>a</p>", "categories": [unique]}
    ).json()
    wait_until(lambda: article["guid"] in guids_in(anonymous, "/feeds/atom.xml"), 5, "the first version")
    patched = publisher.patch(f"/api/v1/articles/{article['id']}", json={"title": f"Đã sửa {unique}"})
    assert patched.status_code == 200 and patched.json()["guid"] == article["guid"]

    def updated_title() -> str | None:
        parsed = assert_valid_atom(anonymous.get(f"/feeds/categories/{unique}/atom.xml").content)
        entries = [e for e in parsed.entries if e.id == article["guid"]]
        return entries[0].title if entries and entries[0].title.startswith("Đã sửa") else None

    assert wait_until(updated_title, 5, "the new title") == f"Đã sửa {unique}"
    # One item, not two: readers see an update, not a new article.
    assert guids_in(anonymous, "/feeds/atom.xml").count(article["guid"]) == 1


def test_delete_withdraws_from_every_feed(publisher: httpx.Client, anonymous: httpx.Client, unique: str) -> None:
    article = publisher.post(
        "/api/v1/articles", json={"title": f"Rút bài {unique}", "body_html": "<p>a</p>", "categories": [unique]}
    ).json()
    for path in feed_paths(unique):

        def listed(p: str = path) -> bool:
            return article["guid"] in guids_in(anonymous, p)

        wait_until(listed, 5, f"{path} to list it")
    assert publisher.delete(f"/api/v1/articles/{article['id']}").status_code == 204
    for path in feed_paths(unique):

        def dropped(p: str = path) -> bool:
            return article["guid"] not in guids_in(anonymous, p)

        wait_until(dropped, 5, f"{path} to drop it")


def test_scheduled_article_is_published_by_beat_exactly_once(
    stack: Stack, publisher: httpx.Client, anonymous: httpx.Client, unique: str
) -> None:
    publish_at = datetime.now(UTC) + timedelta(seconds=2)
    article = publisher.post(
        "/api/v1/articles",
        json={"title": f"Hẹn giờ {unique}", "body_html": "<p>a</p>", "publish_at": publish_at.isoformat()},
    ).json()
    assert article["status"] == "scheduled" and article["published_at"] is None
    assert article["guid"] not in guids_in(anonymous, "/feeds/atom.xml")
    wait_until(lambda: article["guid"] in guids_in(anonymous, "/feeds/atom.xml"), 15, "the scheduled article")
    time.sleep(3)  # several more beat ticks: none may publish it again
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
    with engine.connect() as connection:
        events = (
            connection.execute(text("SELECT type FROM outbox_events WHERE article_id = :id"), {"id": article["id"]})
            .scalars()
            .all()
        )
        published_at = connection.execute(
            text("SELECT published_at FROM articles WHERE id = :id"), {"id": article["id"]}
        ).scalar_one()
    engine.dispose()
    assert events == ["article.published"]
    assert abs((published_at - publish_at).total_seconds()) < 0.001


def test_conditional_get_answers_304_until_the_feed_changes(
    publisher: httpx.Client, anonymous: httpx.Client, unique: str
) -> None:
    first = anonymous.get("/feeds/feed.json")
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert anonymous.get("/feeds/feed.json", headers={"If-None-Match": etag}).status_code == 304
    assert (
        anonymous.get("/feeds/feed.json", headers={"If-Modified-Since": first.headers["last-modified"]}).status_code
        == 304
    )
    publisher.post("/api/v1/articles", json={"title": f"Mới {unique}", "body_html": "<p>a</p>"})
    changed = wait_until(
        lambda: (r := anonymous.get("/feeds/feed.json", headers={"If-None-Match": etag})).status_code == 200 and r,
        5,
        "the feed to change",
    )
    assert changed.headers["etag"] != etag


def test_unauthenticated_and_unauthorised_requests(
    stack: Stack, anonymous: httpx.Client, publisher: httpx.Client
) -> None:
    assert anonymous.post("/api/v1/articles", json={"title": "x", "body_html": "y"}).status_code == 401
    bad = anonymous.get("/api/v1/articles", headers={"Authorization": "Bearer btn_wrong"})
    assert bad.status_code == 401
    assert publisher.get("/api/v1/tokens").status_code == 403
    admin = stack.create_token("admin")
    assert anonymous.get("/api/v1/tokens", headers={"Authorization": f"Bearer {admin}"}).status_code == 200


def test_bad_input_is_refused_and_nothing_is_stored(publisher: httpx.Client, unique: str) -> None:
    response = publisher.post(
        "/api/v1/articles", json={"title": "a" * 301, "body_html": "<p>x</p>", "categories": [unique], "extra": 1}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["detail"]} == {"title", "extra"}
    assert publisher.get(f"/api/v1/articles?category={unique}").json()["total"] == 0


def test_readyz_reports_database_and_broker(anonymous: httpx.Client) -> None:
    body = anonymous.get("/readyz").json()
    assert body == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
