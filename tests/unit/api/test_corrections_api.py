"""Corrections through the real app (decision 0043): the API, the article page's notice and
JSON-LD, /cai-chinh, the sitemap, the feeds (validated), the 410 page with its reason."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from lxml import etree, html
from sqlalchemy import func, select

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import ArticleCorrection, AuditEvent
from service.db.types import utcnow
from service.feeds.publish import render_scope
from service.feeds.scopes import CORRECTIONS, SITE
from tests.feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from tests.unit.api.conftest import make_token

SEED = {"title": "Kỷ niệm 97 năm Ngày thành lập Đảng", "body_html": "<p>Nội dung.</p>", "categories": ["Thời sự"]}
FIX = {"wrong": "Lễ diễn ra ngày 2/2.", "right": "Lễ diễn ra ngày 3/2.", "apology": True}


def publish(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/articles", json=SEED, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def correct(client: TestClient, headers: dict[str, str], article_id: int, body: Any = None) -> Any:
    return client.post(
        f"/api/v1/articles/{article_id}/corrections", json=FIX if body is None else body, headers=headers
    )


def rows() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ArticleCorrection)) or 0


def test_an_editor_publishes_and_lists_a_correction(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    response = correct(client, publisher, article["id"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["wrong"], body["right"], body["apology"]) == (FIX["wrong"], FIX["right"], True)
    assert body["url"] == f"{article['url']}#cai-chinh-{body['id']}"
    listed = client.get(f"/api/v1/articles/{article['id']}/corrections", headers=publisher).json()
    assert [c["id"] for c in listed] == [body["id"]]
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "article.correct")) == 1


def test_refusals_are_clear_and_store_nothing(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    writer = {"Authorization": f"Bearer {make_token('write')}"}
    refused = correct(client, writer, article["id"])
    assert refused.status_code == 403
    assert "publish" in refused.json()["detail"]
    empty = correct(client, publisher, article["id"], {"wrong": " ", "right": "Đúng"})
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["field"] == "wrong"
    long = correct(client, publisher, article["id"], {"wrong": "Sai", "right": "x" * 2001})
    assert long.status_code == 422
    assert long.json()["detail"][0]["field"] == "right"
    assert correct(client, publisher, article["id"], {**FIX, "extra": 1}).status_code == 422
    missing = correct(client, publisher, article["id"], {"wrong": "Sai"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "right"
    assert correct(client, publisher, 999_999).status_code == 404
    draft = client.post("/api/v1/articles", json={**SEED, "status": "draft"}, headers=publisher).json()
    assert correct(client, publisher, draft["id"]).status_code == 409
    assert rows() == 0


def test_the_page_shows_the_notice_at_the_top_and_json_ld_carries_it(
    client: TestClient, publisher: dict[str, str]
) -> None:
    article = publish(client, publisher)
    correction = correct(client, publisher, article["id"]).json()
    page = client.get(f"/articles/{article['id']}/{article['slug']}")
    assert page.status_code == 200
    tree: Any = html.fromstring(page.text)
    story = tree.xpath("//article[@class='story']")[0]
    first = story[0]
    assert first.get("id") == f"cai-chinh-{correction['id']}"
    local = utcnow().astimezone(get_settings().zone).strftime("%d/%m/%Y")
    assert f"Cải chính, xin lỗi ngày {local}" in first.text_content()
    assert FIX["wrong"] in first.text_content() and FIX["right"] in first.text_content()
    blocks = [json.loads(b) for b in tree.xpath("//script[@type='application/ld+json']/text()")]
    news = next(b for b in blocks if b["@type"] == "NewsArticle")
    (comment,) = news["correction"]
    assert comment["@type"] == "CorrectionComment"
    assert FIX["right"] in comment["text"]
    assert comment["datePublished"].startswith(utcnow().astimezone(get_settings().zone).date().isoformat())


def test_cai_chinh_lists_corrections_newest_first_and_pages(
    client: TestClient, publisher: dict[str, str], settings_override: Any
) -> None:
    settings_override.setenv("BANTIN_PAGE_SIZE", "2")
    article = publish(client, publisher)
    ids = [correct(client, publisher, article["id"], {**FIX, "right": f"Đúng lần {n}"}).json()["id"] for n in range(3)]
    first = client.get("/cai-chinh")
    assert first.status_code == 200
    tree: Any = html.fromstring(first.text)
    shown = [int(a.get("id").split("-")[-1]) for a in tree.xpath("//ol[@class='corrections']//aside")]
    assert shown == [ids[2], ids[1]]
    older = tree.xpath("//a[@rel='next']/@href")[0]
    second: Any = html.fromstring(client.get(older).text)
    assert [int(a.get("id").split("-")[-1]) for a in second.xpath("//ol[@class='corrections']//aside")] == [ids[0]]
    assert client.get("/cai-chinh?before=abc").status_code == 404
    assert client.get("/cai-chinh?before=999999").status_code == 404
    feeds = tree.xpath("//link[@rel='alternate']/@href")
    assert "https://bantin.example.vn/feeds/cai-chinh/atom.xml" in feeds
    sitemap = client.get("/sitemaps/pages.xml").text
    assert "<loc>https://bantin.example.vn/cai-chinh</loc>" in sitemap


def test_feeds_carry_the_notice_and_the_corrections_feed_lists_it(
    client: TestClient, publisher: dict[str, str]
) -> None:
    article = publish(client, publisher)
    with session_scope() as session:
        render_scope(session, SITE, utcnow(), get_settings())
    before: Any = etree.fromstring(client.get("/feeds/atom.xml").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    updated_before = before.xpath("//a:entry/a:updated/text()", namespaces=ns)[0]
    correct(client, publisher, article["id"])
    with session_scope() as session:
        for scope in (SITE, CORRECTIONS):
            render_scope(session, scope, utcnow(), get_settings())
    atom = client.get("/feeds/atom.xml").content
    assert_valid_atom(atom)
    feed: Any = etree.fromstring(atom)
    entry = feed.xpath("//a:entry", namespaces=ns)[0]
    content = entry.xpath("a:content/text()", namespaces=ns)[0]
    assert content.startswith('<aside id="cai-chinh-') and FIX["right"] in content
    assert entry.xpath("a:updated/text()", namespaces=ns)[0] > updated_before
    for name, check in (
        ("rss.xml", assert_valid_rss),
        ("atom.xml", assert_valid_atom),
        ("feed.json", assert_valid_json_feed),
    ):
        response = client.get(f"/feeds/cai-chinh/{name}")
        assert response.status_code == 200, name
        check(response.content)
    item = client.get("/feeds/cai-chinh/feed.json").json()["items"][0]
    assert item["title"] == f"Cải chính: {SEED['title']}"
    assert item["url"].startswith(article["url"] + "#cai-chinh-")


def test_a_withdrawal_reason_is_shown_on_the_410_page(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    reason = "Bài có thông tin chưa được kiểm chứng <b>đầy đủ</b>."
    assert (
        client.delete(f"/api/v1/articles/{article['id']}", params={"reason": reason}, headers=publisher).status_code
        == 204
    )
    gone = client.get(f"/articles/{article['id']}/{article['slug']}")
    assert gone.status_code == 410
    page: Any = html.fromstring(gone.text)
    assert page.xpath("string(//p[@class='gone-reason'])").endswith(reason)
    assert "<b>đầy đủ</b>" not in gone.text  # escaped, never markup
    assert client.get(f"/api/v1/articles/{article['id']}", headers=publisher).json()["withdrawal_reason"] == reason
    other = publish(client, publisher)
    refused = client.delete(f"/api/v1/articles/{other['id']}", params={"reason": "x" * 1001}, headers=publisher)
    assert refused.status_code == 422
    assert client.get(f"/articles/{other['id']}/{other['slug']}").status_code == 200
