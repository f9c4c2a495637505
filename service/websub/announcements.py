"""The WebSub content kind (``feed.updated``), decision 0032: a changed feed's bytes, read
when the batch starts (W3C WebSub §7 content distribution). It has no words: it goes only
to WebSub subscribers, whose channel posts the feed as it is stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from config.settings import Settings
from service.announcements.kinds import Claim, Content, Kind
from service.announcements.message import FeedContent
from service.feeds.documents import load_document
from service.feeds.render import CONTENT_TYPES, FILENAMES
from service.feeds.urls import feed_url, hub_url
from service.i18n import N_

# The announcement type of a changed feed (WebSub content distribution).
FEED_UPDATED = "feed.updated"


def feed_content_for(session: Session, payload: Mapping[str, Any], base_url: str) -> FeedContent | None:
    """The stored bytes of the feed a ``feed.updated`` payload names, with its self and hub URLs.

    None when the payload names no known feed or the feed was never rendered.
    """
    scope, fmt = payload.get("scope"), payload.get("format")
    if not isinstance(scope, str) or fmt not in FILENAMES:
        return None
    feed = load_document(session, scope, str(fmt))
    if feed is None:
        return None
    return FeedContent(
        body=feed.body,
        content_type=CONTENT_TYPES[str(fmt)],
        self_url=feed_url(base_url, scope, str(fmt)),
        hub_url=hub_url(base_url),
    )


def load_feeds(session: Session, claims: Sequence[Claim], settings: Settings) -> dict[str, Content]:
    """The kind's loader: each announcement's feed read once per batch, however many subscribers it has."""
    by_announcement: dict[int, Content] = {}
    contents: dict[str, Content] = {}
    for claim in claims:
        content = by_announcement.get(claim.announcement_id)
        if content is None:
            document = feed_content_for(session, claim.payload, settings.base_url)
            content = by_announcement[claim.announcement_id] = Content(claim.payload, document)
        contents[claim.delivery_id] = content
    return contents


KINDS = (Kind(FEED_UPDATED, load=load_feeds, label=N_("Feed thay đổi (WebSub)")),)
