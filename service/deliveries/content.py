"""What a feed.updated announcement carries: the feed's current bytes, read when the batch starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from service.channels.messages import FeedContent
from service.feeds.documents import load_document
from service.feeds.render import CONTENT_TYPES, FILENAMES
from service.feeds.urls import feed_url, hub_url

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
