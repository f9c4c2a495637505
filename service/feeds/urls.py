"""Public URLs of the feeds and of the WebSub hub that announces them.

``base_url`` is ``BANTIN_BASE_URL`` (no trailing slash). A scope is ``site`` or
``category:<slug>`` (``service.feeds.scopes``); a format is ``rss``, ``atom`` or ``json``.
"""

from __future__ import annotations

from service.feeds.render import FILENAMES
from service.feeds.scopes import CORRECTIONS, category_slug

# The feeds of /cai-chinh (decision 0043).
CORRECTIONS_FEED_PATH = "/feeds/cai-chinh"


def feed_path(scope: str) -> str:
    """The path of a scope's feeds, without the file name: ``/feeds``, ``/feeds/categories/<slug>``
    or ``/feeds/cai-chinh``."""
    if scope == CORRECTIONS:
        return CORRECTIONS_FEED_PATH
    slug = category_slug(scope)
    return "/feeds" if slug is None else f"/feeds/categories/{slug}"


def feed_url(base_url: str, scope: str, fmt: str) -> str:
    """The absolute URL of one feed, e.g. ``https://example.vn/feeds/atom.xml``; KeyError for an unknown format."""
    return f"{base_url}{feed_path(scope)}/{FILENAMES[fmt]}"


def hub_url(base_url: str) -> str:
    """The WebSub hub endpoint every feed names as ``rel="hub"``."""
    return f"{base_url}/websub"
