"""Work-arounds for feedgen 1.0.0 defects that touch our feeds.

Imported for its side effect by ``render``; each fix is tested in
``tests/unit/feeds/test_render.py``.

- ``formatRFC2822`` calls ``locale.setlocale`` around ``strftime``. setlocale is
  process-global and not thread-safe: two renders in two threads (or an API thread
  formatting a number) can interleave and leave the process in the C locale or produce
  a localised day name. ``email.utils.format_datetime`` is locale-independent RFC 5322.
  feedgen imported the function by name into two modules, so both names are replaced.

- Atom entry links lose ``rel`` and ``type`` (lkiesow/python-feedgen #135): the loop
  in ``FeedEntry.atom_entry`` rebinds ``link`` to the new XML element and then reads
  ``rel``/``type`` from that element, so they are never written. Reported as "with more
  than one link"; in 1.0.0 it happens with one link too. ``LinkPreservingEntry``
  rewrites the attributes from the entry's own link data after feedgen built the element.

- RSS keeps only the first ``rel="self"`` ``atom:link`` and drops every other rel, so
  the WebSub ``rel="hub"`` link never reaches RSS. ``HubLinks`` is a feed extension
  that writes them into ``<channel>``.

The other defects are avoided by how ``render`` calls feedgen, not patched:
- RSS ``<channel><link>`` is the last ``link()`` added: the self link is added first,
  the alternate last.
- The syndication extension writes ``sy:UpdatePeriod``: we do not load it.
- Control characters raise only at render time: text is cleaned when stored, and
  again just before it is handed to feedgen.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

import feedgen.entry
import feedgen.feed
from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from lxml import etree

ATOM_LINK_ATTRIBUTES = ("rel", "type", "hreflang", "title", "length")


def format_rfc822(value: datetime) -> str:
    """RFC 822/5322 date with a numeric zone, whatever the process locale."""
    return format_datetime(value)


feedgen.entry.formatRFC2822 = format_rfc822
feedgen.feed.formatRFC2822 = format_rfc822


class LinkPreservingEntry(FeedEntry):  # type: ignore[misc]
    """A FeedEntry whose Atom links keep their ``rel``, ``type`` and other attributes."""

    def atom_entry(self, extensions: bool = True) -> Any:
        """feedgen's Atom ``<entry>``, with each ``<link>``'s rel, type, hreflang, title and length written back."""
        element = super().atom_entry(extensions)
        links = [child for child in element if child.tag == "link"]
        for xml_link, data in zip(links, self.link() or [], strict=True):
            for attribute in ATOM_LINK_ATTRIBUTES:
                if data.get(attribute):
                    xml_link.set(attribute, str(data[attribute]))
        return element


ATOM_NS = "http://www.w3.org/2005/Atom"


class HubLinks(BaseExtension):  # type: ignore[misc]
    """RSS-only feed extension: ``<atom:link rel="hub" href="…"/>`` for each WebSub hub."""

    def __init__(self) -> None:
        self.urls: tuple[str, ...] = ()

    def hubs(self, urls: tuple[str, ...]) -> None:
        """Set the WebSub hub URLs the RSS channel advertises."""
        self.urls = urls

    def extend_ns(self) -> dict[str, str]:
        """The namespace this extension writes in: Atom, for ``atom:link``."""
        return {"atom": ATOM_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        """Add an ``atom:link rel="hub"`` to ``<channel>`` per hub (WebSub §4, discovery); returns the RSS root."""
        channel = rss_feed[0]
        for url in self.urls:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=url, rel="hub")
        return rss_feed
