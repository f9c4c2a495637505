"""Public pages through the real app: head tags (parsed with lxml), JSON-LD, status codes,
conditional requests, HEAD, security headers, paging and the sitemaps (XSD-validated)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html
from sqlalchemy import update

from service.db.engine import session_scope
from service.db.models import Article

BASE = "https://bantin.example.vn"
DATA = Path(__file__).resolve().parents[2] / "data"
SEED = {
    "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)",
    "body_html": "<p>Sáng 3/2, tại Đà Nẵng, lễ kỷ niệm <strong>97 năm</strong> Ngày thành lập Đảng.</p>",
    "summary": "Lễ kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam diễn ra trang trọng.",
    "categories": ["Xây dựng Đảng", "Thời sự"],
    "author": "Ban Tuyên giáo",
    "image_url": "https://dukccq.danang.gov.vn/anh/le-ky-niem.jpg",
    "image_caption": "Quang cảnh lễ kỷ niệm. Ảnh: dukccq.danang.gov.vn",
    "image_alt": "Đại biểu dâng hoa trước tượng đài Bác Hồ",
    "source_name": "dukccq.danang.gov.vn",
    "source_url": "https://dukccq.danang.gov.vn/tin/ky-niem-97-nam",
}
NEWS_ARTICLE_REQUIRED = (
    "headline",
    "datePublished",
    "dateModified",
    "author",
    "publisher",
    "image",
    "mainEntityOfPage",
)


def configure(override: pytest.MonkeyPatch, **env: str) -> None:
    """Set BANTIN_* variables mid-test; the next request reads them."""
    from config.settings import get_settings

    for name, value in env.items():
        override.setenv(f"BANTIN_{name}", value)
    get_settings.cache_clear()


def publish(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/articles", json={**SEED, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def path_of(article: dict[str, Any]) -> str:
    return str(article["url"]).removeprefix(BASE)


def head_of(page: str) -> Any:
    return html.fromstring(page.encode()).find("head")


def body_of(page: bytes) -> Any:
    """The page's ``<body>``; ``Any`` because XPath results are typed by the expression."""
    return html.fromstring(page).find("body")


def meta(head: Any, key: str) -> str:
    attribute = "property" if key.startswith(("og:", "article:")) else "name"
    found = head.xpath(f"meta[@{attribute}=$key]/@content", key=key)
    assert len(found) == 1, f"{key}: {found}"
    return str(found[0])


def json_ld(head: Any, kind: str = "NewsArticle") -> dict[str, Any]:
    """The page's one JSON-LD block of schema.org type ``kind``."""
    blocks = [json.loads(block) for block in head.xpath("script[@type='application/ld+json']/text()")]
    found = [block for block in blocks if block["@type"] == kind]
    assert len(found) == 1, blocks
    return dict(found[0])


def test_article_head_has_what_link_previews_and_feed_readers_read(
    client: TestClient, publisher: dict[str, str]
) -> None:
    article = publish(client, publisher)
    response = client.get(path_of(article))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    head = head_of(response.text)

    assert head.findtext("title") == f"{SEED['title']} – Thành ủy Đà Nẵng"
    assert meta(head, "viewport") == "width=device-width, initial-scale=1"
    assert meta(head, "description") == SEED["summary"]
    assert head.xpath("link[@rel='canonical']/@href") == [article["url"]]
    alternates = {(link.get("type"), link.get("href")) for link in head.xpath("link[@rel='alternate']")}
    for slug in ("", "categories/xay-dung-dang/", "categories/thoi-su/"):
        assert ("application/rss+xml", f"{BASE}/feeds/{slug}rss.xml") in alternates
        assert ("application/atom+xml", f"{BASE}/feeds/{slug}atom.xml") in alternates
        assert ("application/feed+json", f"{BASE}/feeds/{slug}feed.json") in alternates

    assert meta(head, "og:site_name") == "Thành ủy Đà Nẵng"
    assert meta(head, "og:locale") == "vi_VN"
    assert meta(head, "og:type") == "article"
    assert meta(head, "og:title") == SEED["title"]
    assert meta(head, "og:description") == SEED["summary"]
    assert meta(head, "og:url") == article["url"]
    assert meta(head, "og:image") == SEED["image_url"]
    published = datetime.fromisoformat(meta(head, "article:published_time"))
    assert published.utcoffset() == timedelta(hours=7)  # shown in BANTIN_TIMEZONE
    assert published == datetime.fromisoformat(article["published_at"]).replace(microsecond=0)
    assert meta(head, "twitter:card") == "summary_large_image"
    assert meta(head, "twitter:image") == SEED["image_url"]

    data = json_ld(head)
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    for field in NEWS_ARTICLE_REQUIRED:
        assert data.get(field), field
    assert data["headline"] == SEED["title"]
    assert data["author"] == [{"@type": "Person", "name": "Ban Tuyên giáo"}]
    assert data["publisher"]["name"] == "Thành ủy Đà Nẵng"
    assert data["image"] == [SEED["image_url"]]
    assert data["mainEntityOfPage"]["@id"] == article["url"]
    assert datetime.fromisoformat(data["dateModified"]) >= datetime.fromisoformat(data["datePublished"])


def test_article_body_shows_source_cover_categories_and_subscribe(
    client: TestClient, publisher: dict[str, str]
) -> None:
    article = publish(client, publisher)
    body = body_of(client.get(path_of(article)).content)
    source = body.xpath("//p[@class='source']")[0]
    assert " ".join(source.text_content().split()) == "Nguồn: dukccq.danang.gov.vn"
    assert source.xpath("a/@href") == [SEED["source_url"]]
    assert body.xpath("//figure[@class='story__cover']/img/@src") == [SEED["image_url"]]
    assert body.xpath("//figure[@class='story__cover']/figcaption/text()") == [SEED["image_caption"]]
    # The cover's words are its alt, not its caption (read once, under the picture).
    assert body.xpath("//figure[@class='story__cover']/img/@alt") == [SEED["image_alt"]]
    assert body.xpath("//p[@class='byline']/text()") == ["Ban Tuyên giáo"]
    assert "/categories/xay-dung-dang" in body.xpath("//header[@class='story__head']//a/@href")
    assert "/subscribe" in body.xpath("//a/@href")
    assert "/feeds/categories/thoi-su/atom.xml" in body.xpath("//a/@href")
    time = body.xpath("//header[@class='story__head']//time")[0]
    assert re.fullmatch(r"Thứ .+, \d\d/\d\d/\d{4}, \d\d:\d\d \(GMT\+7\)|Chủ Nhật, .+", time.text)


def test_hostile_title_is_escaped_in_the_head_and_cannot_leave_the_json_ld(
    client: TestClient, publisher: dict[str, str]
) -> None:
    title = "</script><script>alert(1)</script> & \"Đà Nẵng\" 'x'"
    article = publish(client, publisher, title=title, summary=None, image_url=None)
    page = client.get(path_of(article)).text
    assert "<script>alert(1)" not in page
    head = head_of(page)
    assert meta(head, "og:title") == title
    assert json_ld(head)["headline"] == title


def test_preview_image_falls_back_to_the_body_then_the_logo(
    client: TestClient, publisher: dict[str, str], settings_override: pytest.MonkeyPatch
) -> None:
    with_body_image = publish(client, publisher, image_url=None, body_html='<p>Ảnh</p><img src="/anh/1.jpg" alt="Ảnh">')
    assert meta(head_of(client.get(path_of(with_body_image)).text), "og:image") == f"{BASE}/anh/1.jpg"

    plain = publish(client, publisher, image_url=None, body_html="<p>Không có ảnh</p>", summary=None)
    head = head_of(client.get(path_of(plain)).text)
    assert not head.xpath("meta[@property='og:image']")
    assert meta(head, "twitter:card") == "summary"
    assert meta(head, "description") == "Không có ảnh"  # from the body when there is no summary

    configure(settings_override, LOGO_URL="/static/logo.png")
    head = head_of(client.get(path_of(plain)).text)
    assert meta(head, "og:image") == f"{BASE}/static/logo.png"
    assert json_ld(head)["publisher"]["logo"]["url"] == f"{BASE}/static/logo.png"


def test_old_slug_redirects_withdrawn_is_gone_draft_and_unknown_are_404(
    client: TestClient, publisher: dict[str, str]
) -> None:
    article = publish(client, publisher)
    moved = client.get(f"/articles/{article['id']}/ten-cu", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == article["url"]

    draft = publish(client, publisher, status="draft")
    assert client.get(path_of(draft)).status_code == 404
    for path in (
        "/articles/999999/x",
        "/articles/9223372036854775808/x",
        "/articles/-1/x",
        "/articles/abc/x",
        "/articles/²/x",
        "/categories/khong-co",
        "/?before=abc",
        "/?before=²",
        "/?before=999999",
        "/?before=9223372036854775808",
    ):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert "Không tìm thấy trang" in missing.text and "noindex" in missing.text
        assert missing.headers["cache-control"] == "no-cache"

    client.delete(f"/api/v1/articles/{article['id']}", headers=publisher)
    gone = client.get(path_of(article))
    assert gone.status_code == 410
    assert "text/html" in gone.headers["content-type"] and "Bài viết đã được gỡ" in gone.text
    assert client.get(f"/articles/{article['id']}/ten-cu", follow_redirects=False).status_code == 410


def test_scheduled_article_is_404_until_its_time(client: TestClient, publisher: dict[str, str]) -> None:
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    article = publish(client, publisher, publish_at=later)
    assert article["status"] == "scheduled"
    assert client.get(path_of(article)).status_code == 404
    with session_scope() as session:  # its time comes before beat has flipped it
        session.execute(
            update(Article)
            .where(Article.id == article["id"])
            .values(publish_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert client.get(path_of(article)).status_code == 200


def test_pages_carry_validators_and_answer_304_and_head(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    for path in ("/", "/categories/xay-dung-dang", path_of(article)):
        first = client.get(path)
        etag = first.headers["etag"]
        assert first.headers["last-modified"].endswith(" GMT")
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(path, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
        assert client.get(path, headers={"If-None-Match": '"x"'}).status_code == 200
        later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
        assert client.get(path, headers={"If-Modified-Since": later}).status_code == 304
        # If-None-Match decides when both are sent (RFC 9110 §13.2.2).
        assert client.get(path, headers={"If-None-Match": '"x"', "If-Modified-Since": later}).status_code == 200
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["etag"] == etag
        not_modified = client.get(path, headers={"If-None-Match": etag})
        assert not_modified.content == b"" and not_modified.headers["etag"] == etag


def test_misaddressed_pages_move_to_their_address_or_get_the_html_404(
    client: TestClient, publisher: dict[str, str]
) -> None:
    article = publish(client, publisher)
    english = client.get(f"/articles/{article['id']}/ten-cu?lang=en", follow_redirects=False)
    assert english.status_code == 301 and english.headers["location"] == article["url"] + "?lang=en"
    moves = {
        f"/articles/{article['id']}": article["url"],
        f"/articles/{article['id']}?lang=en": article["url"] + "?lang=en",
        path_of(article) + "/": article["url"],
        "/categories/xay-dung-dang/": f"{BASE}/categories/xay-dung-dang",
        f"/categories/xay-dung-dang//?before={article['id']}&lang=en": (
            f"{BASE}/categories/xay-dung-dang?before={article['id']}&lang=en"
        ),
    }
    for path, location in moves.items():
        moved = client.get(path, follow_redirects=False)
        assert moved.status_code == 301 and moved.headers["location"] == location, path
        assert client.head(path, follow_redirects=False).headers["location"] == location
    for path in ("/articles/999999", "/articles/abc", "/categories/a/b", path_of(article) + "/x", "/articles/"):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"].startswith("text/html"), path
        assert "Không tìm thấy trang" in missing.text
    assert "Page not found" in client.get("/categories/a/b?lang=en").text


def test_pages_refuse_other_methods_naming_get_and_head(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    for path in ("/", "/categories/xay-dung-dang", path_of(article), "/categories/khong-co"):
        for method in ("POST", "PUT", "DELETE"):
            response = client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert response.headers["allow"] == "GET, HEAD"
            assert response.json() == {"detail": "Method Not Allowed"}


def test_pages_from_memory_keep_each_language_apart(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    english = client.get(path_of(article) + "?lang=en")
    assert english.status_code == 200 and '<html lang="en"' in english.text
    # Rendered once per language: the Vietnamese page is not the English one from memory.
    vietnamese = client.get(path_of(article))
    assert '<html lang="vi"' in vietnamese.text and vietnamese.headers["etag"] != english.headers["etag"]
    again = client.get(path_of(article) + "?lang=en")
    assert again.text == english.text


def test_a_change_changes_the_etag_of_every_page_showing_it(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    paths = ("/", "/categories/xay-dung-dang", path_of(article))
    before = {path: client.get(path).headers["etag"] for path in paths}
    client.patch(f"/api/v1/articles/{article['id']}", json={"summary": "Tóm tắt mới"}, headers=publisher)
    after = {path: client.get(path).headers["etag"] for path in paths}
    assert all(before[p] != after[p] for p in paths)
    client.delete(f"/api/v1/articles/{article['id']}", headers=publisher)
    assert client.get("/").headers["etag"] != after["/"]
    assert "Tóm tắt mới" not in client.get("/").text


def test_last_modified_is_the_change_or_while_unsettled_the_second_before(
    client: TestClient, publisher: dict[str, str]
) -> None:
    article = publish(client, publisher)
    served = client.get(path_of(article))
    announced = datetime.strptime(served.headers["last-modified"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    changed = datetime.fromisoformat(article["updated_at"]).replace(microsecond=0)
    # Just changed, the second before is announced, so a reader sending it back gets the
    # page again rather than a 304 that could hide a second change within this second.
    assert announced in (changed, changed - timedelta(seconds=1))
    again = client.get(path_of(article), headers={"If-Modified-Since": served.headers["last-modified"]})
    assert again.status_code == (304 if announced == changed else 200)


def test_security_headers_and_the_inline_style_hash(client: TestClient, publisher: dict[str, str]) -> None:
    article = publish(client, publisher)
    for path in ("/", "/categories/xay-dung-dang", path_of(article), "/categories/khong-co"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
        # One script, our own file (site.js): nothing inline, nothing from elsewhere.
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        style = re.search(r"<style>(.*?)</style>", response.text, re.S)
        assert style is not None
        digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
        assert "upgrade-insecure-requests" in csp  # the base URL is https


def test_branding_comes_from_settings(
    client: TestClient, publisher: dict[str, str], settings_override: pytest.MonkeyPatch
) -> None:
    configure(settings_override, ACCENT_COLOR="#FFD700")
    configure(settings_override, SITE_DESCRIPTION="Cổng thông tin điện tử")
    configure(settings_override, LOGO_URL="https://cdn.example.vn/logo.png")
    page = client.get("/").text
    assert "--accent:#ffd700;--on-accent:#000" in page  # dark text on a light accent
    assert "Cổng thông tin điện tử" in page
    assert 'src="https://cdn.example.vn/logo.png"' in page


@pytest.mark.parametrize("value", ["red", "#12345", "#gggggg", "url(x)"])
def test_accent_colour_must_be_hex(settings_override: pytest.MonkeyPatch, value: str) -> None:
    from pydantic import ValidationError

    from config.settings import Settings

    settings_override.setenv("BANTIN_ACCENT_COLOR", value)
    with pytest.raises(ValidationError, match="accent_color"):
        Settings()


def test_listings_page_by_keyset_and_show_each_article_once(
    client: TestClient, publisher: dict[str, str], settings_override: pytest.MonkeyPatch
) -> None:
    configure(settings_override, PAGE_SIZE="2")
    ids = [publish(client, publisher, title=f"Bài số {n}", categories=["Thời sự"])["id"] for n in range(5)]
    publish(client, publisher, title="Bài khác chuyên mục", categories=["Kinh tế"])
    for start in ("/categories/thoi-su", "/"):
        seen: list[int] = []
        path: str | None = start
        while path:
            page: Any = html.fromstring(client.get(path).content)
            seen += [int(h.split("/")[2]) for h in page.xpath("//h2[@class='card__title']/a/@href")]
            older = page.xpath("//a[@rel='next']/@href")
            path = older[0] if older else None
        expected = sorted(ids, reverse=True) if start != "/" else None
        if expected is not None:
            assert seen == expected
        else:
            assert len(seen) == len(set(seen)) == 6
    second = client.get(f"/?before={ids[-1]}")
    assert 'name="robots" content="noindex, follow"' in second.text


def test_static_files_are_cached_for_a_year_only_under_their_digest(client: TestClient) -> None:
    page = client.get("/").text
    href = re.search(r'href="(/static/site\.css\?v=[0-9a-f]+)"', page)
    assert href is not None
    css = client.get(href.group(1))
    assert css.status_code == 200 and css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "font-face" not in css.text and "http" not in css.text.replace("https://", "")  # nothing fetched
    assert client.get("/static/site.css?v=old").headers["cache-control"] == "public, max-age=300"
    assert client.get(href.group(1), headers={"If-None-Match": css.headers["etag"]}).status_code == 304
    assert client.get("/static/../config/settings.py").status_code == 404
    assert client.get("/static/nope.css").status_code == 404


def test_favicon_ico_answers_the_sites_icon_with_a_long_cache(client: TestClient) -> None:
    """Browsers ask /favicon.ico on their own: the site's SVG icon, not a 404 on every first visit."""
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.headers["cache-control"] == "public, max-age=604800" and "<svg" in icon.text
    assert client.get("/favicon.ico", headers={"If-None-Match": icon.headers["etag"]}).status_code == 304
    assert client.head("/favicon.ico").status_code == 200


# ---- sitemaps ------------------------------------------------------------------------------


def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / name)))


def valid(content: bytes, schema_name: str) -> Any:
    document = etree.fromstring(content)
    checker = schema(schema_name)
    assert checker.validate(document), checker.error_log
    return document


NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "n": "http://www.google.com/schemas/sitemap-news/0.9"}


def test_sitemaps_are_valid_and_split_into_indexed_files(
    client: TestClient, publisher: dict[str, str], settings_override: pytest.MonkeyPatch
) -> None:
    configure(settings_override, SITEMAP_URLS_PER_FILE="2")
    articles = [publish(client, publisher, title=f"Tin {n}") for n in range(5)]
    client.delete(f"/api/v1/articles/{articles[0]['id']}", headers=publisher)

    index_response = client.get("/sitemap.xml")
    assert index_response.headers["content-type"] == "application/xml; charset=utf-8"
    assert index_response.headers["x-robots-tag"] == "noindex"
    index = valid(index_response.content, "siteindex.xsd")
    files = index.xpath("//s:sitemap/s:loc/text()", namespaces=NS)
    assert files == [
        f"{BASE}/sitemaps/pages.xml",
        f"{BASE}/sitemaps/articles-1.xml",
        f"{BASE}/sitemaps/articles-2.xml",
        f"{BASE}/sitemaps/articles-3.xml",
        f"{BASE}/sitemaps/news.xml",
    ]
    listed: list[str] = []
    for url in files[1:-1]:
        document = valid(client.get(url.removeprefix(BASE)).content, "sitemap.xsd")
        locs = document.xpath("//s:url/s:loc/text()", namespaces=NS)
        assert 1 <= len(locs) <= 2
        listed += locs
    assert listed == [a["url"] for a in articles[1:]]  # the withdrawn one is gone
    pages = valid(client.get("/sitemaps/pages.xml").content, "sitemap.xsd")
    # Home and categories by slug, kept to the per-file limit too (2 here).
    assert pages.xpath("//s:url/s:loc/text()", namespaces=NS) == [f"{BASE}/", f"{BASE}/categories/thoi-su"]
    assert client.get("/sitemaps/articles-9.xml").status_code == 404
    assert client.get("/sitemaps/articles-0.xml").status_code == 404
    assert client.get("/sitemaps/other.xml").status_code == 404
    assert client.get("/sitemaps/articles-².xml").status_code == 404
    assert client.get("/sitemaps/articles-99999999999999999999.xml").status_code == 404
    etag = index_response.headers["etag"]
    assert client.get("/sitemap.xml", headers={"If-None-Match": etag}).status_code == 304


def test_news_sitemap_lists_the_last_two_days(client: TestClient, publisher: dict[str, str]) -> None:
    fresh = publish(client, publisher)
    old = publish(client, publisher, title="Tin cũ", publish_at=(datetime.now(UTC) - timedelta(days=3)).isoformat())
    document = valid(client.get("/sitemaps/news.xml").content, "sitemap-with-news.xsd")
    assert document.xpath("//s:url/s:loc/text()", namespaces=NS) == [fresh["url"]]
    assert old["url"] not in client.get("/sitemaps/news.xml").text
    assert document.xpath("//n:publication/n:name/text()", namespaces=NS) == ["Thành ủy Đà Nẵng"]
    assert document.xpath("//n:publication/n:language/text()", namespaces=NS) == ["vi"]
    assert document.xpath("//n:title/text()", namespaces=NS) == [SEED["title"]]


def test_a_sitemap_missing_a_required_element_fails_the_schema() -> None:
    # The schemas must be able to fail: a news entry without its title, a url without loc.
    broken_news = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://x.example.vn/a</loc>'
        b"<news:news><news:publication><news:name>X</news:name><news:language>vi</news:language>"
        b"</news:publication><news:publication_date>2027-02-03</news:publication_date></news:news></url></urlset>"
    )
    assert not schema("sitemap-with-news.xsd").validate(etree.fromstring(broken_news))
    no_loc = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><lastmod>2027-02-03</lastmod></url></urlset>'
    )
    assert not schema("sitemap.xsd").validate(etree.fromstring(no_loc))


def test_robots_txt_points_at_the_sitemaps(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert f"Sitemap: {BASE}/sitemap.xml" in lines and f"Sitemap: {BASE}/sitemaps/news.xml" in lines
    assert "Disallow: /api/" in lines and "Disallow: /unsubscribe/" in lines


def test_caption_is_validated_and_returned(client: TestClient, publisher: dict[str, str]) -> None:
    response = client.post("/api/v1/articles", json={**SEED, "image_caption": "x" * 301}, headers=publisher)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "image_caption"
    article = publish(client, publisher, image_caption="  Ảnh:\n tư liệu  ")
    assert article["image_caption"] == "Ảnh: tư liệu"
    changed = client.patch(f"/api/v1/articles/{article['id']}", json={"image_caption": None}, headers=publisher)
    assert changed.json()["image_caption"] is None
    assert "<figcaption>" not in client.get(path_of(article)).text


def test_a_fresh_site_has_a_home_page_and_valid_sitemaps(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200 and "Chưa có bài viết nào." in home.text
    assert client.get("/", headers={"If-None-Match": home.headers["etag"]}).status_code == 304
    index = valid(client.get("/sitemap.xml").content, "siteindex.xsd")
    assert f"{BASE}/sitemaps/pages.xml" in index.xpath("//s:loc/text()", namespaces=NS)
    pages = valid(client.get("/sitemaps/pages.xml").content, "sitemap.xsd")
    assert pages.xpath("//s:loc/text()", namespaces=NS) == [f"{BASE}/"]
    assert client.get("/sitemaps/articles-1.xml").status_code == 404


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml", "/sitemaps/pages.xml", "/sitemaps/news.xml", "/"])
def test_every_public_get_answers_head_with_the_same_headers(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-type"] == got.headers["content-type"]
