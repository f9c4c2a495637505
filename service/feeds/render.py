"""Render RSS 2.0, Atom 1.0 (both through feedgen) and JSON Feed 1.1 from plain items.

Output is a pure function of the spec and the items: the same content gives the same
bytes, so the stored ETag changes only when a reader would see a difference.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from service.feeds._feedgen_fixes import HubLinks, LinkPreservingEntry
from service.feeds.model import FeedItem, FeedSpec
from service.text import remove_xml_forbidden as _x

FILENAMES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "Bantin"
# Built entries kept per process and format: a site's and its categories' items, with room.
ENTRY_CACHE_SIZE = 256
# The feed's <updated> when it has no items: fixed, so an empty feed renders the same bytes.
EMPTY_FEED_UPDATED = datetime(2020, 1, 1, tzinfo=UTC)
# What a browser that opens an RSS or Atom feed shows it with (feed readers ignore these):
# the page feed.xsl makes of it, and where a browser no longer runs XSLT (Chromium warns it
# will stop), the XML itself styled by feed.css. Root-relative, like every page's static
# files, so the bytes do not depend on BANTIN_BASE_URL. Decision 33.
STYLESHEETS = (
    b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>\n'
    b'<?xml-stylesheet type="text/css" href="/static/feed.css"?>\n'
)


def feed_updated(items: Sequence[FeedItem]) -> datetime:
    """The feed's updated time: its newest item's, or EMPTY_FEED_UPDATED when it has none."""
    return max((item.updated for item in items), default=EMPTY_FEED_UPDATED)


def render(fmt: str, spec: FeedSpec, items: Sequence[FeedItem]) -> bytes:
    """The ``fmt`` document ("rss", "atom" or "json") as UTF-8 bytes; ValueError for another format."""
    if fmt == "rss":
        return render_rss(spec, items)
    if fmt == "atom":
        return render_atom(spec, items)
    if fmt == "json":
        return render_json(spec, items)
    raise ValueError(f"unknown feed format {fmt!r}")


def render_within(fmt: str, spec: FeedSpec, items: Sequence[FeedItem], max_bytes: int) -> bytes:
    """Render ``fmt`` in at most ``max_bytes``: the newest items keep their full content,
    the oldest carry their summary only, as many full as fit. If even summaries alone do
    not fit, the oldest items are left out. Feed readers refuse large feeds (Miniflux
    over 15 MB, CommaFeed over 5 MB); the article pages still have everything.
    """
    body = render(fmt, spec, items)
    if len(body) <= max_bytes:
        return body

    def with_full(count: int, keep: int) -> bytes:
        shown = [item if n < count else dataclasses.replace(item, content_html=None) for n, item in enumerate(items)]
        return render(fmt, spec, shown[:keep])

    # The most items with full content that fit (0 .. len - 1; all of them did not fit).
    fits, low, high = None, 0, len(items) - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = with_full(middle, len(items))
        if len(candidate) <= max_bytes:
            fits, low = candidate, middle + 1
        else:
            high = middle - 1
    if fits is not None:
        return fits
    # Summaries alone are too much: the most items (newest first) that fit, at least none.
    fits, low, high = render(fmt, spec, []), 1, len(items) - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = with_full(0, middle)
        if len(candidate) <= max_bytes:
            fits, low = candidate, middle + 1
        else:
            high = middle - 1
    return fits


def _base_generator(spec: FeedSpec, items: Sequence[FeedItem], self_url: str, *, rss: bool) -> FeedGenerator:
    zone = ZoneInfo(spec.zone_name)
    fg = FeedGenerator()
    if rss:
        # RSS has no author name element; Dublin Core's creator is what readers show.
        # Atom has <author>, so the extension (a sixth of Atom's render time) stays out.
        fg.load_extension("dc")
    fg.id(self_url)
    fg.title(_x(spec.title))
    fg.description(_x(spec.description))
    fg.subtitle(_x(spec.description))
    fg.author({"name": _x(spec.author)})
    fg.language(spec.language)
    fg.generator(GENERATOR, uri=None, version=None)
    # Order matters for RSS: feedgen writes the *last* link as <channel><link>.
    fg.link(href=self_url, rel="self")
    fg.link(href=spec.home_url, rel="alternate")
    updated = feed_updated(items).astimezone(zone)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    for item in items:
        fg.add_entry(feedEntry=PrebuiltEntry(entry_element(item, spec.zone_name, rss=rss)), order="append")
    return fg


class PrebuiltEntry(FeedEntry):  # type: ignore[misc]
    """An entry whose ``<item>`` or ``<entry>`` was built before: feedgen appends a copy of it."""

    def __init__(self, element: etree._Element) -> None:
        super().__init__()
        self._element = element

    def rss_entry(self, extensions: bool = True) -> etree._Element:
        """A copy of the prebuilt RSS ``<item>`` (the tree it goes into must not own the cached one)."""
        return copy.deepcopy(self._element)

    def atom_entry(self, extensions: bool = True) -> etree._Element:
        """A copy of the prebuilt Atom ``<entry>``."""
        return copy.deepcopy(self._element)


@lru_cache(maxsize=ENTRY_CACHE_SIZE)
def entry_element(item: FeedItem, zone_name: str, *, rss: bool) -> etree._Element:
    """The RSS ``<item>`` (``rss``) or Atom ``<entry>`` of ``item``, dates in ``zone_name``.

    Built once per item content and process, then copied into every feed that lists the
    item: a publish re-renders the site's feed and each of its categories', whose other
    items are the same as last time. Building an entry is most of feedgen's time, copying
    the element a small part; the feed's bytes are the same either way. Never mutate the
    returned element.
    """
    fg = FeedGenerator()
    if rss:
        fg.load_extension("dc")
    entry = fg.add_entry(feedEntry=LinkPreservingEntry(), order="append")
    _fill_entry(entry, item, ZoneInfo(zone_name), dc=rss)
    element: etree._Element = entry.rss_entry() if rss else entry.atom_entry()
    return element


def _fill_entry(entry: FeedEntry, item: FeedItem, zone: ZoneInfo, *, dc: bool) -> None:
    entry.guid(item.guid, permalink=False)
    entry.title(_x(item.title))
    entry.link(href=item.url, rel="alternate", type="text/html")
    entry.published(item.published.astimezone(zone))
    entry.updated(item.updated.astimezone(zone))
    # Summary first: it becomes the RSS <description>; content is content:encoded / Atom content.
    entry.summary(_x(item.summary or item.title))
    if item.content_html is not None:
        entry.content(_x(item.content_html), type="html")
    if item.author:
        entry.author({"name": _x(item.author)})
        if dc:
            entry.dc.dc_creator(_x(item.author))
    for category in item.categories:
        entry.category(term=category.slug, label=_x(category.name))
    if item.enclosure is not None:
        # RSS <enclosure url length type>; Atom <link rel="enclosure" href length type>.
        enclosure = item.enclosure
        entry.enclosure(enclosure.url, str(enclosure.length), enclosure.content_type)


def with_stylesheets(document: bytes) -> bytes:
    """``document`` (feedgen's bytes: the XML declaration, a newline, the root) with the
    STYLESHEETS instructions after the declaration, where XML allows them (XML 1.0 §2.6)."""
    declaration, newline, rest = document.partition(b"\n")
    if not (declaration.startswith(b"<?xml ") and newline):
        raise ValueError("feed bytes without the XML declaration line")
    return declaration + newline + STYLESHEETS + rest


def render_rss(spec: FeedSpec, items: Sequence[FeedItem]) -> bytes:
    """RSS 2.0 bytes (rssboard.org specification): dc:creator for authors, an ``atom:link rel="hub"`` per hub,
    the STYLESHEETS a browser shows it with."""
    fg = _base_generator(spec, items, spec.url(FILENAMES["rss"]), rss=True)
    if spec.hubs:
        fg.register_extension("hub", HubLinks, None, atom=False, rss=True)
        fg.hub.hubs(spec.hubs)
    return with_stylesheets(fg.rss_str(pretty=False))


def render_atom(spec: FeedSpec, items: Sequence[FeedItem]) -> bytes:
    """Atom 1.0 bytes (RFC 4287), with a ``link rel="hub"`` per WebSub hub and the STYLESHEETS
    a browser shows it with."""
    fg = _base_generator(spec, items, spec.url(FILENAMES["atom"]), rss=False)
    for hub in spec.hubs:
        fg.link(href=hub, rel="hub")
    return with_stylesheets(fg.atom_str(pretty=False))


def render_json(spec: FeedSpec, items: Sequence[FeedItem]) -> bytes:
    """JSON Feed 1.1 bytes (jsonfeed.org/version/1.1), compact UTF-8, with the hubs as WebSub entries."""
    zone = ZoneInfo(spec.zone_name)
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": spec.title,
        "home_page_url": spec.home_url,
        "feed_url": spec.url(FILENAMES["json"]),
        "description": spec.description,
        "language": spec.language,
        "authors": [{"name": spec.author}],
    }
    if spec.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in spec.hubs]
    feed["items"] = [_json_item(item, zone) for item in items]
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_item(item: FeedItem, zone: ZoneInfo) -> dict[str, object]:
    data: dict[str, object] = {"id": item.guid, "url": item.url, "title": item.title}
    # JSON Feed 1.1: every item has content_html or content_text; a summary-only item
    # (kept under the size budget) carries its summary as text.
    if item.content_html is not None:
        data["content_html"] = item.content_html
    else:
        data["content_text"] = item.summary or item.title
    data["date_published"] = item.published.astimezone(zone).isoformat()
    data["date_modified"] = item.updated.astimezone(zone).isoformat()
    if item.summary:
        data["summary"] = item.summary
    if item.author:
        data["authors"] = [{"name": item.author}]
    if item.image_url:
        data["image"] = item.image_url
    if item.categories:
        data["tags"] = [category.name for category in item.categories]
    return data
