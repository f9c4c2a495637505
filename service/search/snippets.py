"""What a result shows of an article: its title and a snippet, the reader's words marked.

The text is cut into pieces, each marked or not; the template writes every piece
escaped and wraps the marked ones in ``<mark>`` — nothing here is HTML, so a title or a
body holding ``<script>`` stays text. A word is marked when its loose key is one the
reader typed, whichever spelling matched (decision 33).

The words are found by one regular expression per key that spells each key every way
Vietnamese can ("dang" → ``[DdĐđ…][AaÀàÁá…]ng``), so a body is scanned in C, once per
key, rather than word by word in Python.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from service.text import search_key, text_of_html

# About two lines of a result under its title.
SNIPPET_CHARS = 220
# Text shown before the first marked word, so that it is read in its sentence.
LEAD_CHARS = 50
# Only the start of a very long body is looked through.
MAX_BODY_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text, marked when it is one of the reader's words."""

    text: str
    marked: bool = False


# The letters whose loose form is one ASCII letter and that Vietnamese text holds: ASCII,
# Latin-1, Latin Extended-A (Đ, Ă, Ĩ, Ũ …), Ơ and Ư, and the Vietnamese block of Latin
# Extended Additional (Ạ … Ỹ). Fewer letters per class keep compiling a query's pattern short.
_LATIN = (
    *range(0x41, 0x5B),
    *range(0x61, 0x7B),
    *range(0xC0, 0x180),
    0x1A0,
    0x1A1,
    0x1AF,
    0x1B0,
    *range(0x1EA0, 0x1EFA),
)


@lru_cache(maxsize=1)
def _spellings() -> dict[str, str]:
    """Loose letter → a regex class of every letter with that loose form: "d" → "[DdĎďĐđ…]"."""
    found: dict[str, set[str]] = {}
    for code in _LATIN:
        letter = chr(code)
        loose = search_key(letter)
        if len(loose) == 1 and loose.isascii() and loose.isalpha():
            found.setdefault(loose, set()).update({letter, letter.lower(), letter.upper()})
    return {loose: "[" + "".join(sorted(letters)) + "]" for loose, letters in found.items()}


def _spelled(character: str) -> str:
    """A regex of every way ``character`` (of a loose key) is written."""
    known = _spellings().get(character)
    if known is not None:
        return known
    cases = {character, character.upper()}
    return re.escape(character) if len(cases) == 1 else "(?:" + "|".join(sorted(map(re.escape, cases))) + ")"


@lru_cache(maxsize=4096)
def key_pattern(key: str) -> re.Pattern[str]:
    """Any spelling of the loose ``key``, not followed by a letter or digit (the character
    before is checked by :func:`_words`: a look-behind would be tried at every position).
    One pattern per key, kept: a query's keys come back far more often than its whole."""
    return re.compile("".join(_spelled(c) for c in key) + r"(?![^\W_])")


def _words(text: str, keys: frozenset[str], start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """(start, end, key) of every whole word of ``text[start:end]`` that is a spelling of
    one of ``keys``, in order (a word has one loose form, so two keys never claim one word)."""
    stop = len(text) if end is None else end
    found = [
        (*match.span(), key)
        for key in keys
        for match in key_pattern(key).finditer(text, start, stop)
        if not (match.start() and text[match.start() - 1].isalnum())
    ]
    return sorted(found)


def _pieces(text: str, keys: frozenset[str], start: int = 0, end: int | None = None) -> list[Piece]:
    """``text[start:end]`` cut at the reader's words."""
    end = len(text) if end is None else end
    pieces: list[Piece] = []
    position = start
    for begin, finish, _ in _words(text, keys, start, end):
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


def _window(text: str, keys: frozenset[str]) -> tuple[int, int, int]:
    """(start, end, how many of the reader's distinct words) of the stretch of about
    SNIPPET_CHARS characters that holds the most of them (the first such), cut at spaces."""
    hits = [(begin, key) for begin, _, key in _words(text, keys)]
    best_start, best_count = 0, 0
    first = 0
    for last in range(len(hits)):
        while hits[last][0] - hits[first][0] > SNIPPET_CHARS - LEAD_CHARS:
            first += 1
        count = len({key for _, key in hits[first : last + 1]})
        if count > best_count:
            best_start, best_count = hits[first][0], count
    start = max(0, best_start - LEAD_CHARS) if best_count else 0
    if start:
        space = text.find(" ", start, best_start)
        start = space + 1 if space != -1 else best_start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end, best_count


def snippet(summary: str | None, body_html: str, keys: Iterable[str]) -> tuple[Piece, ...]:
    """About SNIPPET_CHARS characters: the stretch of the summary or the body with most of
    the reader's words (the summary when it holds as many), "…" where the text goes on;
    the summary, else the body's start, when neither holds any (a match in the title)."""
    wanted = frozenset(keys)
    best: tuple[str, tuple[int, int, int]] | None = None
    for text in (summary or "", text_of_html(body_html[:MAX_BODY_CHARS])):
        text = unicodedata.normalize("NFC", text)
        if not text.strip():
            continue
        found = _window(text, wanted)
        if best is None or found[2] > best[1][2]:
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
