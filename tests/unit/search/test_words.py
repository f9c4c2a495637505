"""The keys search compares: loose (no marks, Đ → d) and exact (letters as written, the tone at the end)."""

from __future__ import annotations

import unicodedata

import pytest

from service.search.words import MAX_WORD_CHARS, Word, index_keys, word, words
from service.text import text_of_html


@pytest.mark.parametrize(
    ("typed", "loose", "exact"),
    [
        ("Đảng", "dang", "đang3"),
        ("ĐẢNG", "dang", "đang3"),
        ("đang", "dang", "đang"),
        ("đăng", "dang", "đăng"),
        ("dạng", "dang", "dang5"),
        ("dang", "dang", "dang"),
        ("Nguyễn", "nguyen", "nguyên4"),
        ("cộng", "cong", "công5"),
        ("sản", "san", "san3"),
        ("sân", "san", "sân"),
        ("ưu", "uu", "ưu"),
        ("1930", "1930", "1930"),
    ],
)
def test_each_word_has_a_loose_and_an_exact_key(typed: str, loose: str, exact: str) -> None:
    assert word(typed) == Word(loose, exact)
    # Decomposed input (e + combining marks) is the same word.
    assert word(unicodedata.normalize("NFD", typed)) == Word(loose, exact)


@pytest.mark.parametrize(
    ("old_style", "new_style"),
    [("hoà", "hòa"), ("Thuỷ", "Thủy"), ("khoẻ", "khỏe"), ("uý", "úy"), ("Hoá", "Hóa"), ("toà", "tòa")],
)
def test_the_two_places_of_a_tone_mark_are_one_exact_spelling(old_style: str, new_style: str) -> None:
    assert word(old_style) == word(new_style)


def test_look_alikes_share_the_loose_key_and_differ_in_the_exact_one() -> None:
    alike = [word(w) for w in ("Đảng", "đang", "đăng", "đáng", "dạng", "đằng")]
    assert {w.loose for w in alike} == {"dang"}
    assert len({w.exact for w in alike}) == len(alike)


def test_words_are_runs_of_letters_and_digits() -> None:
    text = "Kỷ niệm 97 năm (3/2/1930 - 3/2/2027): Đảng_Cộng-sản, COVID-19… «Việt Nam»"
    assert [w.loose for w in words(text)] == [
        "ky", "niem", "97", "nam", "3", "2", "1930", "3", "2", "2027", "dang", "cong", "san", "covid", "19", "viet",
        "nam",
    ]  # fmt: skip


def test_overlong_runs_are_not_indexed() -> None:
    long = "a" * (MAX_WORD_CHARS + 1)
    assert index_keys(f"tin {long} mới") == ["moi", "mơi1", "tin"]
    assert index_keys("a" * MAX_WORD_CHARS) == ["a" * MAX_WORD_CHARS]


def test_index_keys_hold_each_key_once_sorted_with_both_spellings() -> None:
    assert index_keys("Đảng đang Đảng dang") == ["dang", "đang", "đang3"]


def test_block_ends_separate_words_that_the_markup_writes_together() -> None:
    body = "<ul><li>một</li><li>hai</li></ul><p>ba<br>bốn</p><h2>năm</h2><p>s<strong>áu</strong></p>"
    assert [w.loose for w in words(text_of_html(body))] == ["mot", "hai", "ba", "bon", "nam", "sau"]
