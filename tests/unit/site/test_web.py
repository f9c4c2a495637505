"""The HTTP rules pages share, and the template helpers, without the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.web.http import RawHeaders, RenderCache, field_value, last_modified_value, not_modified, strong_etag
from service.web.templating import environment, local_datetime

CHANGED = datetime(2027, 2, 3, 1, 0, 0, 400_000, tzinfo=UTC)


def raw(*lines: tuple[str, str]) -> RawHeaders:
    """Header lines as ASGI hands them over."""
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in lines]


def test_last_modified_waits_for_its_second_to_settle() -> None:
    just_after = CHANGED + timedelta(milliseconds=300)
    assert last_modified_value(CHANGED, just_after) == datetime(2027, 2, 3, 0, 59, 59, tzinfo=UTC)
    later = CHANGED + timedelta(seconds=5)
    assert last_modified_value(CHANGED, later) == datetime(2027, 2, 3, 1, 0, 0, tzinfo=UTC)


def test_if_modified_since_never_hides_a_change_within_the_announced_second() -> None:
    # A reader told "01:00:00" (settled) asks again after a second change at 01:00:00.9:
    # impossible, because "settled" means that second was over before it was announced.
    announced = "Wed, 03 Feb 2027 01:00:00 GMT"
    assert not_modified(raw(("if-modified-since", announced)), '"a"', CHANGED)
    assert not not_modified(raw(("if-modified-since", announced)), '"a"', CHANGED + timedelta(seconds=1))
    unsettled = "Wed, 03 Feb 2027 00:59:59 GMT"
    assert not not_modified(raw(("if-modified-since", unsettled)), '"a"', CHANGED)
    assert not not_modified(raw(("if-modified-since", "yesterday")), '"a"', CHANGED)
    assert not not_modified(raw(("if-modified-since", "Wed, 03 Feb 2027 01:00:00")), '"a"', CHANGED)  # no zone
    assert not_modified(raw(("if-none-match", '"b", W/"a"')), '"a"', CHANGED)
    assert not_modified(raw(("if-none-match", "*")), '"a"', CHANGED)
    assert not not_modified(raw(("if-none-match", '"b"'), ("if-modified-since", announced)), '"a"', CHANGED)


def test_repeated_header_lines_are_one_value_as_rfc_9110_says() -> None:
    assert field_value(raw(("if-none-match", '"a"'), ("if-none-match", '"b"')), b"if-none-match") == '"a", "b"'
    assert field_value(raw(("accept", "x")), b"if-none-match") is None
    # Either line of a repeated If-None-Match can match, whichever came first.
    for lines in (('"a"', '"b"'), ('"b"', '"a"')):
        headers = raw(*(("if-none-match", value) for value in lines))
        assert not_modified(headers, '"a"', CHANGED)
    # If-Modified-Since sent twice is not one date: ignored (RFC 9110 §13.1.3), whatever the order.
    twice = raw(
        ("if-modified-since", "Wed, 03 Feb 2027 01:00:00 GMT"), ("if-modified-since", "Thu, 01 Jan 2099 00:00:00 GMT")
    )
    assert not not_modified(twice, '"a"', CHANGED)


def test_strong_etag_follows_every_part() -> None:
    assert strong_etag("x", (1, "a")) == strong_etag("x", (1, "a"))
    assert strong_etag("x", (1, "a")) != strong_etag("x", (1, "b"))
    assert strong_etag("xy", "z") != strong_etag("x", "yz")


def test_render_cache_renders_once_per_etag_and_stays_bounded() -> None:
    cache = RenderCache(entries=2, max_body_chars=10)
    calls: list[str] = []

    def render(text: str) -> str:
        calls.append(text)
        return text

    assert cache.get_or_render('"1"', lambda: render("one")) == "one"
    assert cache.get_or_render('"1"', lambda: render("other")) == "one"
    cache.get_or_render('"2"', lambda: render("two"))
    cache.get_or_render('"3"', lambda: render("three"))
    cache.get_or_render('"1"', lambda: render("one"))  # evicted: rendered again
    cache.get_or_render('"4"', lambda: render("far too long a body"))
    cache.get_or_render('"4"', lambda: render("far too long a body"))  # never kept
    assert calls == ["one", "two", "three", "one", "far too long a body", "far too long a body"]


def test_dates_are_local_and_vietnamese() -> None:
    assert local_datetime(datetime(2027, 2, 3, 1, 0, tzinfo=UTC)) == "Thứ Tư, 03/02/2027, 08:00 (GMT+7)"
    assert local_datetime(datetime(2027, 2, 6, 17, 30, tzinfo=UTC)) == "Chủ Nhật, 07/02/2027, 00:30 (GMT+7)"


def test_environment_escapes_everything() -> None:
    template = environment().from_string("<p title='{{ x }}'>{{ x }}</p>")
    assert template.render(x="<b>'&\"") == "<p title='&lt;b&gt;&#39;&amp;&#34;'>&lt;b&gt;&#39;&amp;&#34;</p>"
