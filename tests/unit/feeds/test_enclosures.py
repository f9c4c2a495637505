"""A cover image in the feeds: RSS enclosure and Atom link rel="enclosure" (length, type) for our
stored images; JSON Feed ``image`` for every cover; external covers as before (JSON Feed only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.db.engine import session_scope
from service.db.types import utcnow
from service.feeds.model import FeedEnclosure
from service.feeds.publish import newest_items
from service.feeds.render import render
from service.media.images import Budget, clean_image
from service.media.store import hash_of_url, media_url, store_image
from tests.actors import staff
from tests.feedcheck import ATOM, assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from tests.unit.feeds.test_render import SPEC, item
from tests.unit.media.samples import photo_with_exif

BASE = "https://bantin.example.vn"
COVER = FeedEnclosure(f"{BASE}/media/{'a' * 64}.jpg", 12345, "image/jpeg")


def test_our_cover_is_an_enclosure_with_length_and_type_in_every_format() -> None:
    entry = item(1, image_url=COVER.url, enclosure=COVER)
    rss, atom, jf = (
        assert_valid_rss(render("rss", SPEC, [entry])),
        assert_valid_atom(render("atom", SPEC, [entry])),
        assert_valid_json_feed(render("json", SPEC, [entry])),
    )
    for parsed in (rss, atom):
        (enclosure,) = parsed.entries[0].enclosures
        assert (enclosure.href, enclosure.length, enclosure.type) == (COVER.url, "12345", "image/jpeg")
    assert jf["items"][0]["image"] == COVER.url

    rss_item = etree.fromstring(render("rss", SPEC, [entry])).find("channel/item")
    assert rss_item is not None
    assert dict(rss_item.find("enclosure").attrib) == {"url": COVER.url, "length": "12345", "type": "image/jpeg"}  # type: ignore[union-attr]
    atom_links = etree.fromstring(render("atom", SPEC, [entry])).findall(f"{ATOM}entry/{ATOM}link")
    enclosures = [dict(link.attrib) for link in atom_links if link.get("rel") == "enclosure"]
    assert enclosures == [{"href": COVER.url, "rel": "enclosure", "type": "image/jpeg", "length": "12345"}]
    # The alternate link keeps its own rel and type next to the enclosure.
    assert any(link.get("rel") == "alternate" and link.get("type") == "text/html" for link in atom_links)


def test_an_external_cover_stays_as_it_was_json_feed_image_only() -> None:
    entry = item(1, image_url="https://anh.example.org/bia.jpg")
    rss = assert_valid_rss(render("rss", SPEC, [entry]))
    atom = assert_valid_atom(render("atom", SPEC, [entry]))
    assert rss.entries[0].enclosures == [] and atom.entries[0].enclosures == []
    assert assert_valid_json_feed(render("json", SPEC, [entry]))["items"][0]["image"] == entry.image_url


def publish(session: Session, title: str, image_url: str | None) -> None:
    data = ArticleCreate.model_validate(
        {
            "title": title,
            "body_html": "<p>Nội dung</p>",
            "image_url": image_url,
            "image_alt": "Quang cảnh buổi lễ",
            "status": "published",
        }
    )
    create_article(session, data, utcnow(), get_settings(), staff("user:bientap"))


def test_the_feed_items_of_articles_carry_the_enclosure_of_their_stored_cover(
    settings_override: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_override.setenv("BANTIN_MEDIA_DIR", str(tmp_path))
    settings = get_settings()
    with session_scope() as session:
        media = store_image(
            session, clean_image(photo_with_exif(), Budget.of(settings)), "user:bientap", utcnow(), settings
        )
        ours = media_url(media, settings.base_url)
        publish(session, "Bài có ảnh bìa của ta", ours)
        publish(session, "Bài có ảnh bìa ngoài", "https://anh.example.org/bia.jpg")
        publish(session, "Bài có ảnh đã mất", f"{settings.base_url}/media/{'b' * 64}.png")
        publish(session, "Bài không có ảnh", None)
        items = {i.title: i for i in newest_items(session, None, 10, settings.base_url)}
    assert items["Bài có ảnh bìa của ta"].enclosure == FeedEnclosure(ours, media.bytes, "image/jpeg")
    assert items["Bài có ảnh bìa của ta"].image_url == ours
    assert items["Bài có ảnh bìa ngoài"].enclosure is None
    assert items["Bài có ảnh đã mất"].enclosure is None
    assert items["Bài không có ảnh"].enclosure is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{BASE}/media/{'a' * 64}.jpg", "a" * 64),
        (f"/media/{'c' * 64}.webp", "c" * 64),
        (f"https://other.example/media/{'a' * 64}.jpg", None),
        (f"{BASE}/media/{'a' * 64}.svg", None),
        (f"{BASE}/media/../{'a' * 64}.jpg", None),
        (f"{BASE}/static/{'a' * 64}.jpg", None),
    ],
)
def test_only_our_media_addresses_name_a_stored_image(url: str, expected: str | None) -> None:
    assert hash_of_url(url, BASE) == expected
