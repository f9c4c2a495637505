"""Titles and snippets: the reader's words marked, the text around them, never HTML."""

from __future__ import annotations

from service.search.snippets import SNIPPET_CHARS, Piece, highlight, snippet

KEYS = frozenset({"dang", "cong", "san"})


def marked(pieces: tuple[Piece, ...]) -> list[str]:
    return [p.text for p in pieces if p.marked]


def whole(pieces: tuple[Piece, ...]) -> str:
    return "".join(p.text for p in pieces)


def test_a_title_is_kept_whole_and_every_spelling_of_the_words_is_marked() -> None:
    title = "Đảng Cộng sản và <b>đảng viên</b> đang học"
    pieces = highlight(title, KEYS)
    assert whole(pieces) == title
    assert marked(pieces) == ["Đảng", "Cộng", "sản", "đảng", "đang"]


def test_the_snippet_is_the_stretch_of_the_body_with_the_words_and_says_where_the_text_goes_on() -> None:
    middle = "Lễ kỷ niệm ngày thành lập Đảng Cộng sản Việt Nam. "
    body = "<p>" + "Mở đầu dài dòng. " * 40 + middle + "Kết. " * 40 + "</p>"
    pieces = snippet(None, body, KEYS)
    assert pieces[0] == Piece("… ") and pieces[-1] == Piece(" …")
    assert marked(pieces) == ["Đảng", "Cộng", "sản"]
    assert len(whole(pieces)) <= SNIPPET_CHARS + 4


def test_the_stretch_with_more_of_the_words_wins_over_the_first_one() -> None:
    body = "<p>Đảng bộ họp. " + "Chữ khác nữa. " * 30 + "Đảng Cộng sản Việt Nam lãnh đạo.</p>"
    assert set(marked(snippet(None, body, KEYS))) == {"Đảng", "Cộng", "sản"}


def test_a_word_inside_a_longer_word_is_not_marked() -> None:
    assert marked(highlight("Sandang, dangdang và DANG", frozenset({"dang"}))) == ["DANG"]
    assert marked(highlight("Đăng, ĐẢNG, đằng", frozenset({"dang"}))) == ["Đăng", "ĐẢNG", "đằng"]
    assert marked(highlight("covid-19 và COVID19", frozenset({"covid", "19"}))) == ["covid", "19"]


def test_the_summary_is_shown_when_it_holds_as_many_words_as_the_body() -> None:
    pieces = snippet("Tóm tắt về Đảng.", "<p>Thân bài về Đảng.</p>", KEYS)
    assert whole(pieces) == "Tóm tắt về Đảng."


def test_without_any_of_the_words_the_summary_or_the_body_start_is_shown() -> None:
    assert whole(snippet("Tóm tắt.", "<p>Thân bài.</p>", KEYS)) == "Tóm tắt."
    assert whole(snippet(None, "<p>Thân bài.</p>", KEYS)) == "Thân bài."
    assert snippet(None, "<p></p>", KEYS) == ()


def test_markup_in_the_body_becomes_text_pieces() -> None:
    pieces = snippet(None, "<p>a &lt;script&gt; Đảng</p>", KEYS)
    assert whole(pieces) == "a <script> Đảng"  # the template escapes every piece
