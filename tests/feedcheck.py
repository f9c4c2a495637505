"""Checks a real feed client would make: feedparser, the RFC 4287 RELAX NG schema,
the two RFC 4287 rules that the grammar cannot state, and JSON Feed 1.1."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import feedparser
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
REPO = Path(__file__).resolve().parent.parent
# The shared copy beside the checkout is the reference; the vendored copy lets a
# clone without it still run the suite.
SCHEMA_CANDIDATES = (REPO.parent / "shared" / "schemas" / "atom.rng", REPO / "tests" / "schemas" / "atom.rng")


@lru_cache(maxsize=1)
def atom_schema() -> etree.RelaxNG:
    path = next(p for p in SCHEMA_CANDIDATES if p.exists())
    return etree.RelaxNG(etree.parse(str(path)))


def parse_ok(body: bytes) -> Any:
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, f"feedparser: {parsed.get('bozo_exception')}"
    return parsed


def assert_valid_atom(body: bytes) -> Any:
    root = etree.fromstring(body)
    schema = atom_schema()
    assert schema.validate(root), str(schema.error_log)
    feed_has_author = root.find(f"{ATOM}author") is not None
    for entry in root.iter(f"{ATOM}entry"):
        # RFC 4287 4.1.1: an author on the feed or on every entry.
        assert feed_has_author or entry.find(f"{ATOM}author") is not None
        # RFC 4287 4.1.2: an alternate link or a content element.
        links = [link for link in entry.findall(f"{ATOM}link") if link.get("rel", "alternate") == "alternate"]
        assert links or entry.find(f"{ATOM}content") is not None
    return parse_ok(body)


def assert_valid_rss(body: bytes) -> Any:
    root = etree.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return parse_ok(body)


def assert_valid_json_feed(body: bytes) -> dict[str, Any]:
    feed: dict[str, Any] = json.loads(body)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    for item in feed["items"]:
        assert item["id"] and isinstance(item["id"], str)
        # JSON Feed 1.1: content_html or content_text must be present (both may be).
        assert isinstance(item.get("content_html"), str) or isinstance(item.get("content_text"), str)
    return feed
