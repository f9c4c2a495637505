"""The bounds of a reader's query: what parse_query refuses, with which reason, and what it
takes. No database takes part (tests/unit/search/test_search.py has the searches)."""

from __future__ import annotations

import pytest

from service.search.query import QueryRefused, Refusal, parse_query

# Public categories as the page offers them (slug → id).
SLUGS = {"xay-dung-dang": 1, "thoi-su": 2}


@pytest.mark.parametrize(
    ("text", "category", "page", "reason"),
    [
        ("a" * 201, None, None, Refusal.TOO_LONG),
        ("một hai ba bốn năm sáu bảy tám chín", None, None, Refusal.TOO_MANY_WORDS),
        ("x" * 65, None, None, Refusal.WORD_TOO_LONG),
        ("dang", None, "0", Refusal.BAD_PAGE),
        ("dang", None, "-1", Refusal.BAD_PAGE),
        ("dang", None, "26", Refusal.BAD_PAGE),
        ("dang", None, "2.0", Refusal.BAD_PAGE),
        ("dang", None, "١", Refusal.BAD_PAGE),  # an Arabic-Indic digit is a digit to str.isdigit
        ("dang", None, "99999999999999999999", Refusal.BAD_PAGE),
        ("dang", "khong-co", None, Refusal.UNKNOWN_CATEGORY),
    ],
)
def test_queries_outside_the_bounds_are_refused_with_a_reason(
    text: str, category: str | None, page: str | None, reason: Refusal
) -> None:
    with pytest.raises(QueryRefused) as refused:
        parse_query(text, category, page, SLUGS)
    assert refused.value.reason is reason


def test_queries_at_the_bounds_are_accepted() -> None:
    assert len(parse_query("a" * 64, None, "25", SLUGS).words) == 1
    # Repeated words count once: eight distinct words are the limit, not eight tokens.
    assert len(parse_query("đảng " * 20 + "một hai ba bốn năm sáu bảy", None, None, SLUGS).words) == 8
    assert parse_query("  Đảng  \n Cộng sản ", "", "", SLUGS).text == "Đảng Cộng sản"
