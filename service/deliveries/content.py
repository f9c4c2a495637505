"""What a WebSub delivery carries: the feed's current bytes, read when the batch starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from config.settings import get_settings
from service.channels.base import FeedContent
from service.feeds.documents import load_document
from service.feeds.render import CONTENT_TYPES, FILENAMES
from service.feeds.scopes import feed_path


def feed_content_for(session: Session, payload: Mapping[str, Any]) -> FeedContent | None:
    scope, fmt = payload.get("scope"), payload.get("format")
    if not isinstance(scope, str) or fmt not in FILENAMES:
        return None
    feed = load_document(session, scope, str(fmt))
    if feed is None:
        return None
    base = get_settings().base_url
    return FeedContent(
        body=feed.body,
        content_type=CONTENT_TYPES[str(fmt)],
        self_url=f"{base}{feed_path(scope)}/{FILENAMES[str(fmt)]}",
        hub_url=f"{base}/websub",
    )
