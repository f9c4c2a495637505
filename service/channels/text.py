"""Fitting a message's words to a transport's length limit."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar, Protocol, TypeVar

ELLIPSIS = "…"
# How a channel counts the length of its message: characters, UTF-16 code units, bytes ...
Measure = Callable[[str], int]


class Words(Protocol):
    """What a text channel reads of a finished message (``Message``, or a kind's ``AnnouncementText``)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def subject(self) -> str:
        """The subject (a title where the channel has one)."""

    @property
    def text(self) -> str:
        """The plain text: lines, the link (when there is one) the last."""

    @property
    def url(self) -> str | None:
        """The link the message leads to."""


W = TypeVar("W", bound=Words)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: how Telegram and Discord (JavaScript) count characters."""
    return len(text.encode("utf-16-le")) // 2


def fit(words: W, limit: int, measure: Measure = len) -> W:
    """The words with their plain text cut to ``measure(text) <= limit``: the link line always
    kept whole, the cut marked with "…"; each channel escapes or formats after, inside
    ``measure``, so markup is never cut in half. Only ``text`` (and ``url``, when not even
    the link fits) change: no channel that cuts shows the HTML.

    ``measure`` must grow with the text (a longer prefix never measures less).
    """
    if measure(words.text) <= limit:
        return words
    tail = f"\n{words.url}" if words.url and words.text.endswith(f"\n{words.url}") else ""
    head = words.text[: len(words.text) - len(tail)]
    low, high = 0, len(head)  # the longest prefix that fits: binary search on its length
    while low < high:
        middle = (low + high + 1) // 2
        if measure(_cut(head, middle) + tail) <= limit:
            low = middle
        else:
            high = middle - 1
    text = _cut(head, low) + tail
    if measure(text) > limit:  # not even the link fits: cut it like any text
        return fit(replace(words, url=None), limit, measure)
    return replace(words, text=text)


def _cut(text: str, length: int) -> str:
    """``text[:length]`` ending in "…", never between a letter and its combining mark."""
    if length >= len(text):
        return text
    while length > 0 and unicodedata.combining(text[length]):
        length -= 1  # the mark belongs to the letter before it: both go
    return text[:length].rstrip() + ELLIPSIS
