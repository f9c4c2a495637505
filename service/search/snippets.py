"""What a result shows of an article: its title and a snippet, the reader's words marked.

The text is cut into pieces, each marked or not; the template writes every piece
escaped and wraps the marked ones in ``<mark>`` — nothing here is HTML, so a title or a
body holding ``<script>`` stays text. A word is marked when its loose key is one the
reader typed, whichever spelling matched (decision 33).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from service.search.words import text_of_html, tokens, word

# About two lines of a result under its title.
SNIPPET_WORDS = 32
# Words shown before the first marked one, so that it is read in its sentence.
LEAD_WORDS = 6
# Only the start of a very long body is looked through.
MAX_BODY_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text, marked when it is one of the reader's words."""

    text: str
    marked: bool = False


def _pieces(text: str, keys: frozenset[str], start: int = 0, end: int | None = None) -> list[Piece]:
    """``text[start:end]`` cut at the words whose loose key is in ``keys``."""
    end = len(text) if end is None else end
    pieces: list[Piece] = []
    position = start
    for found in tokens(text[start:end]):
        if word(found.group()).loose not in keys:
            continue
        begin, finish = start + found.start(), start + found.end()
        if begin > position:
            pieces.append(Piece(text[position:begin]))
        pieces.append(Piece(text[begin:finish], marked=True))
        position = finish
    if position < end:
        pieces.append(Piece(text[position:end]))
    return pieces


def highlight(text: str, keys: Iterable[str]) -> tuple[Piece, ...]:
    """The whole of ``text`` (a title), the reader's words marked."""
    return tuple(_pieces(unicodedata.normalize("NFC", text), frozenset(keys)))


def _window(text: str, keys: frozenset[str]) -> tuple[int, int, int] | None:
    """(start, end, how many) of the first stretch of SNIPPET_WORDS words of ``text`` that
    holds the most of the reader's distinct words; None for a text without words.

    One pass, the window sliding a word at a time with a count per key (a body may run to
    tens of thousands of words).
    """
    spans = [(m.start(), m.end(), word(m.group()).loose) for m in tokens(text)]
    if not spans:
        return None
    counts: dict[str, int] = {}
    best, best_count = 0, 0
    for last, (_, _, loose) in enumerate(spans):
        if loose in keys:
            counts[loose] = counts.get(loose, 0) + 1
        first = last - SNIPPET_WORDS + 1
        if first > 0:
            gone = spans[first - 1][2]
            if gone in keys:
                counts[gone] -= 1
                if not counts[gone]:
                    del counts[gone]
        if len(counts) > best_count:
            # The stretch ends at its newest marked word; start it a little before the first.
            best, best_count = max(0, first), len(counts)
            if best_count == len(keys):
                break
    if best_count:
        first_marked = next(i for i in range(best, len(spans)) if spans[i][2] in keys)
        best = max(0, first_marked - LEAD_WORDS)
    last_shown = min(len(spans), best + SNIPPET_WORDS) - 1
    # The text's own first and last characters (a quote, a full stop) when the stretch reaches them.
    start = 0 if best == 0 else spans[best][0]
    end = len(text) if last_shown == len(spans) - 1 else spans[last_shown][1]
    return start, end, best_count


def snippet(summary: str | None, body_html: str, keys: Iterable[str]) -> tuple[Piece, ...]:
    """About SNIPPET_WORDS words: the stretch of the summary or the body with most of the
    reader's words (the summary when it holds as many), "…" where the text goes on; the
    summary, else the body's start, when neither holds any (a match in the title)."""
    wanted = frozenset(keys)
    best: tuple[str, tuple[int, int, int]] | None = None
    for text in (summary or "", text_of_html(body_html[:MAX_BODY_CHARS])):
        text = unicodedata.normalize("NFC", text)
        found = _window(text, wanted)
        if found is not None and (best is None or found[2] > best[1][2]):
            best = (text, found)
    if best is None:
        return ()
    text, (start, end, _) = best
    pieces = _pieces(text, wanted, start, end)
    if start > 0:
        pieces.insert(0, Piece("… "))
    if end < len(text):
        pieces.append(Piece(" …"))
    return tuple(pieces)
