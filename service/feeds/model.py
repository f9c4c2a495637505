"""What a renderer needs to know, as plain data: no database, no settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedCategory:
    name: str
    slug: str


@dataclass(frozen=True)
class FeedEnclosure:
    """A cover image we store: absolute URL, size in bytes and Content-Type, as RSS and Atom need them."""

    url: str
    length: int
    content_type: str


@dataclass(frozen=True)
class FeedItem:
    guid: str
    url: str
    title: str
    # None when the feed carries only the summary (a feed kept under its size budget).
    content_html: str | None
    published: datetime
    updated: datetime
    summary: str | None = None
    author: str | None = None
    image_url: str | None = None
    # The cover image when it is one of ours (its size and type are known), else None.
    enclosure: FeedEnclosure | None = None
    categories: tuple[FeedCategory, ...] = ()


@dataclass(frozen=True)
class FeedSpec:
    """One feed: its identity and links, shared by the three formats."""

    title: str
    description: str
    home_url: str
    base_url: str
    # Path of this scope's feeds, e.g. "/feeds" or "/feeds/categories/xay-dung-dang".
    path: str
    author: str
    language: str = "vi"
    zone_name: str = "Asia/Ho_Chi_Minh"
    hubs: tuple[str, ...] = field(default_factory=tuple)

    def url(self, filename: str) -> str:
        """The absolute URL of one of this feed's files, e.g. ``url("atom.xml")``."""
        return f"{self.base_url}{self.path}/{filename}"
