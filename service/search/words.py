"""Words as search compares them: each word of a text gives a loose key and an exact key.

- loose: lower case, every mark dropped, "Đ/đ" as "d" (``service.text.search_key``):
  "Đảng", "đang", "đăng" and "dang" are all ``dang``, so a reader who types without
  diacritics finds every spelling;
- exact: lower case, letters as written ("đ", "â", "ă", "ê", "ô", "ơ", "ư" kept), the tone
  moved to the end as its VNI number (1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng): "Đảng" is
  ``đang3`` and "đang" is ``đang``, so they differ; "hoà" and "hòa" (the old and new
  places of the tone mark, both in use) are both ``hoa2``, so they agree.

A word is a run of letters and digits (``[^\\W_]+`` on NFC text): punctuation, spaces
and symbols separate words. Both databases are handed these keys already made, one
space between them, so what a word is never depends on a database's own tokenizer
(decision 33).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from service.text import search_key

# Combining tone marks (NFD) → their VNI numbers; every other mark is part of the letter.
TONE_NUMBERS = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
# Longer runs are not words anyone searches for (hashes, run-together URLs): they are left
# out of the index and refused in a query, which also keeps every key well under the
# databases' limits (a PostgreSQL lexeme holds at most 2,047 bytes).
MAX_WORD_CHARS = 64
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Word:
    """One word's keys: ``loose`` ("dang") and ``exact`` ("đang3"); equal for a word with no marks."""

    loose: str
    exact: str


@lru_cache(maxsize=65536)
def word(token: str) -> Word:
    """The keys of one word (a run of letters and digits, any case, NFC or not)."""
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFC", token).casefold())
    tones = "".join(TONE_NUMBERS[c] for c in folded if c in TONE_NUMBERS)
    letters = unicodedata.normalize("NFC", "".join(c for c in folded if c not in TONE_NUMBERS))
    return Word(loose=search_key(letters), exact=letters + tones)


def tokens(text: str) -> Iterator[re.Match[str]]:
    """The words of ``text`` (NFC) as matches, so that a snippet can cut the text around them."""
    return _WORD.finditer(text)


def words(text: str) -> list[Word]:
    """The keys of every word of ``text`` short enough to index, in order, repeats kept."""
    return [word(m.group()) for m in tokens(unicodedata.normalize("NFC", text)) if len(m.group()) <= MAX_WORD_CHARS]


def index_keys(text: str) -> list[str]:
    """What the index holds for ``text``: every loose key and every exact key that differs
    from its loose key, each once, sorted (so the same text always gives the same row)."""
    keys: set[str] = set()
    for found in words(text):
        keys.add(found.loose)
        keys.add(found.exact)
    return sorted(keys)
