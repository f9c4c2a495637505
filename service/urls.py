"""Composing URLs from a base that may carry a query: what was there is kept.

One rule for every URL we build from configuration or from a subscriber (WebSub
verification, unsubscribe links, channel API bases): the base's path is extended, its
query keeps its parameters and new ones are appended after them with ``&`` (WebSub
§5.3: "the hub MUST preserve the query string ... and append new parameters").
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit


def with_path(base: str, path: str) -> str:
    """``base`` with ``path`` appended to its path (one slash between); query kept, fragment dropped.

    >>> with_path("https://api.example/v1?key=a", "/send")
    'https://api.example/v1/send?key=a'
    """
    parts = urlsplit(base)
    joined = parts.path.rstrip("/") + "/" + path.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, joined, parts.query, ""))


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended after any query it already has; fragment dropped.

    >>> with_query("https://s.example/cb?id=42", {"hub.mode": "subscribe"})
    'https://s.example/cb?id=42&hub.mode=subscribe'
    """
    parts = urlsplit(url)
    added = urlencode(params)
    query = f"{parts.query}&{added}" if parts.query and added else parts.query or added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
