import json
import locale
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from lxml import etree

from service.feeds.model import FeedCategory, FeedItem, FeedSpec
from service.feeds.render import entry_element, render
from service.text import sanitize_html
from tests.feedcheck import ATOM, assert_valid_atom, assert_valid_json_feed, assert_valid_rss

SPEC = FeedSpec(
    title="Thành ủy Đà Nẵng – Xây dựng Đảng",
    description="Bản tin",
    home_url="https://bantin.example.vn/",
    base_url="https://bantin.example.vn",
    path="/feeds/categories/xay-dung-dang",
    author="Ban biên tập",
)
T0 = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def item(n: int, **overrides: object) -> FeedItem:
    fields: dict[str, object] = {
        "guid": f"urn:uuid:00000000-0000-0000-0000-{n:012d}",
        "url": f"https://bantin.example.vn/articles/{n}/bai-{n}",
        "title": f"Kỷ niệm {n} năm Ngày thành lập Đảng Cộng sản Việt Nam",
        "content_html": "<p>Nội dung <strong>đầy đủ</strong></p>",
        "published": T0 - timedelta(hours=n),
        "updated": T0 - timedelta(hours=n),
        "summary": "Tóm tắt",
        "author": "Nguyễn Văn Đức",
        "categories": (FeedCategory("Xây dựng Đảng", "xay-dung-dang"),),
    }
    fields.update(overrides)
    return FeedItem(**fields)  # type: ignore[arg-type]


def render_all(items: list[FeedItem]) -> tuple[Any, Any, dict[str, Any]]:
    return (
        assert_valid_rss(render("rss", SPEC, items)),
        assert_valid_atom(render("atom", SPEC, items)),
        assert_valid_json_feed(render("json", SPEC, items)),
    )


def test_vietnamese_titles_links_dates_and_order_survive_every_format() -> None:
    items = [item(1), item(2), item(3)]
    rss, atom, jf = render_all(items)
    for parsed in (rss, atom):
        assert [e.title for e in parsed.entries] == [i.title for i in items]
        assert [e.link for e in parsed.entries] == [i.url for i in items]
        assert [e.id for e in parsed.entries] == [i.guid for i in items]
        assert parsed.entries[0].published_parsed[:6] == items[0].published.utctimetuple()[:6]
        assert parsed.entries[0].tags[0].term in {"Xây dựng Đảng", "xay-dung-dang"}
        assert parsed.feed.language == "vi"
    assert [i["title"] for i in jf["items"]] == [i.title for i in items]
    assert jf["language"] == "vi" and jf["authors"] == [{"name": "Ban biên tập"}]
    assert jf["items"][0]["content_html"] == items[0].content_html


def found(parent: etree._Element, path: str) -> etree._Element:
    """``parent.find(path)``, failing the test (not a type error later) when it is missing."""
    element = parent.find(path)
    assert element is not None, f"no {path} in <{parent.tag}>"
    return element


def test_rss_specifics_channel_link_self_link_creator_content_and_rfc822_dates() -> None:
    root = etree.fromstring(render("rss", SPEC, [item(1)]))
    channel = found(root, "channel")
    # feedgen writes the *last* link() as <channel><link>: it must be the site, not the feed.
    assert channel.findtext("link") == "https://bantin.example.vn/"
    self_links = channel.findall(f"{ATOM}link")
    assert [(link.get("rel"), link.get("href")) for link in self_links] == [("self", SPEC.url("rss.xml"))]
    entry = found(channel, "item")
    assert entry.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Nguyễn Văn Đức"
    assert entry.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == item(1).content_html
    assert found(entry, "guid").get("isPermaLink") == "false"
    pub = entry.findtext("pubDate")
    assert pub is not None and pub.endswith("+0700")
    assert parsedate_to_datetime(pub) == item(1).published


def test_atom_entry_link_keeps_rel_and_type_despite_feedgen_135() -> None:
    root = etree.fromstring(render("atom", SPEC, [item(1)]))
    link = found(root, f"{ATOM}entry/{ATOM}link")
    assert (link.get("rel"), link.get("type"), link.get("href")) == ("alternate", "text/html", item(1).url)
    assert found(root, f"{ATOM}entry/{ATOM}content").get("type") == "html"


def test_hostile_markup_arrives_escaped_and_sanitised() -> None:
    body = sanitize_html('<p>ok</p><script>alert("x")</script><img src=x onerror=alert(1)>')
    _, atom, jf = render_all([item(1, content_html=body, title='<script>alert("t")</script> & Đảng')])
    assert "<script>" not in jf["items"][0]["content_html"]
    assert atom.entries[0].title == '<script>alert("t")</script> & Đảng'
    assert "onerror" not in atom.entries[0].content[0].value


def test_control_characters_never_reach_the_xml() -> None:
    rss, atom, _ = render_all([item(1, title="Tin\x00 \x08khẩn\x1f", content_html="<p>a\x0bb</p>", summary="\x0c")])
    assert rss.entries[0].title == "Tin khẩn"
    assert atom.entries[0].title == "Tin khẩn"


def test_emoji_and_very_long_titles() -> None:
    long_title = "Đảng " * 60 + "🇻🇳🎉"
    rss, atom, jf = render_all([item(1, title=long_title.strip())])
    assert rss.entries[0].title == long_title.strip()
    assert atom.entries[0].title == long_title.strip()
    assert jf["items"][0]["title"].endswith("🇻🇳🎉")


def test_item_without_category_or_author_uses_feed_author() -> None:
    _, atom, jf = render_all([item(1, categories=(), author=None)])
    assert "tags" not in atom.entries[0]
    assert atom.feed.author == "Ban biên tập"
    assert "authors" not in jf["items"][0]


def test_empty_feed_is_valid_and_stable() -> None:
    render_all([])
    assert render("atom", SPEC, []) == render("atom", SPEC, [])
    assert json.loads(render("json", SPEC, []))["items"] == []


def test_same_items_give_the_same_bytes() -> None:
    for fmt in ("rss", "atom", "json"):
        assert render(fmt, SPEC, [item(1), item(2)]) == render(fmt, SPEC, [item(1), item(2)])


def test_entries_built_once_are_reused_and_the_bytes_do_not_depend_on_it() -> None:
    for fmt in ("rss", "atom"):
        entry_element.cache_clear()
        cold = render(fmt, SPEC, [item(1), item(2)])
        misses = entry_element.cache_info().misses
        # Another feed listing the same items, in another order: copies, never the cached element itself.
        render(fmt, SPEC, [item(2), item(1), item(3)])
        assert render(fmt, SPEC, [item(1), item(2)]) == cold
        info = entry_element.cache_info()
        assert info.misses == misses + 1 and info.hits >= 4
        # The cache is keyed by the item's content: an edited article is built again.
        edited = render(fmt, SPEC, [item(1, title="Tin đã sửa"), item(2)])
        assert "Tin đã sửa".encode() in edited and edited != cold


def test_rendering_never_touches_the_process_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    # feedgen's formatRFC2822 calls locale.setlocale, which is process-global and races
    # between threads; the patched formatter must not call it at all.
    def forbidden(*_args: object) -> str:
        raise AssertionError("locale.setlocale called during render")

    monkeypatch.setattr(locale, "setlocale", forbidden)
    assert b"<pubDate>" in render("rss", SPEC, [item(1)])


def test_every_format_advertises_the_websub_hub_and_rss_keeps_self_and_hub() -> None:
    spec = FeedSpec(**{**SPEC.__dict__, "hubs": ("https://bantin.example.vn/websub",)})
    rss = etree.fromstring(render("rss", spec, [item(1)]))
    links = {(link.get("rel"), link.get("href")) for link in found(rss, "channel").findall(f"{ATOM}link")}
    assert links == {("self", SPEC.url("rss.xml")), ("hub", "https://bantin.example.vn/websub")}
    atom = etree.fromstring(render("atom", spec, [item(1)]))
    assert ("hub", "https://bantin.example.vn/websub") in {
        (link.get("rel"), link.get("href")) for link in atom.findall(f"{ATOM}link")
    }
    assert json.loads(render("json", spec, []))["hubs"] == [
        {"type": "WebSub", "url": "https://bantin.example.vn/websub"}
    ]
    assert_valid_rss(render("rss", spec, [item(1)]))
    assert_valid_atom(render("atom", spec, [item(1)]))


def test_rss_and_atom_name_the_stylesheets_a_browser_shows_them_with() -> None:
    """After the XML declaration (XML 1.0 §2.6), before the root: feed readers skip them."""
    for fmt in ("rss", "atom"):
        body = render(fmt, SPEC, [item(1)])
        lines = body.split(b"\n", 3)
        assert lines[0].startswith(b"<?xml version=")
        assert lines[1] == b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>'
        assert lines[2] == b'<?xml-stylesheet type="text/css" href="/static/feed.css"?>'
        root = etree.fromstring(body)
        instructions: list[Any] = list(root.itersiblings(preceding=True))
        assert [(pi.target, pi.get("type")) for pi in instructions] == [
            ("xml-stylesheet", "text/css"),
            ("xml-stylesheet", "text/xsl"),
        ]
    assert not render("json", SPEC, [item(1)]).startswith(b"<")


def test_the_stylesheet_makes_a_page_of_either_feed_with_its_words_as_text() -> None:
    """What a browser shows: feed.xsl (XSLT 1.0, run here by libxslt as browsers run it)."""
    from importlib import resources

    stylesheet = etree.XSLT(etree.fromstring(resources.files("service.web").joinpath("static/feed.xsl").read_bytes()))
    hostile = item(2, title="Tin <b>đậm</b> & “Đảng”", summary="Tóm tắt <script>x</script>")
    for fmt in ("rss", "atom"):
        page = stylesheet(etree.fromstring(render(fmt, SPEC, [item(1), hostile])))
        text = str(page)
        assert "<h1>Thành ủy Đà Nẵng – Xây dựng Đảng</h1>" in text, fmt
        links = page.getroot().findall(".//li/h2/a")
        assert [a.text for a in links] == [item(1).title, hostile.title]
        assert [a.get("href") for a in links] == [item(1).url, hostile.url]
        assert "<script>" not in text and "&lt;script&gt;" in text
        address = page.getroot().find(".//p[@class='feed-page__address']/code")
        assert address is not None and address.text == SPEC.url(f"{fmt}.xml")
