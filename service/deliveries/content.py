"""What a feed.updated announcement carries: the feed's current bytes, read when the batch starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from config.settings import get_settings
from service.channels.messages import FeedContent
from service.feeds.publish import feed_path, stored_feed
from service.feeds.render import CONTENT_TYPES, FILENAMES

# The announcement type of a changed feed (WebSub content distribution).
FEED_UPDATED = "feed.updated"


def feed_content_for(session: Session, payload: Mapping[str, Any]) -> FeedContent | None:
    scope, fmt = payload.get("scope"), payload.get("format")
    if not isinstance(scope, str) or fmt not in FILENAMES:
        return None
    feed = stored_feed(session, scope, str(fmt))
    if feed is None:
        return None
    base = get_settings().base_url
    return FeedContent(
        body=feed.body,
        content_type=CONTENT_TYPES[str(fmt)],
        self_url=f"{base}{feed_path(scope)}/{FILENAMES[str(fmt)]}",
        hub_url=f"{base}/websub",
    )
