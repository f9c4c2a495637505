import pytest

from service.urls import with_path, with_query


@pytest.mark.parametrize(
    ("base", "params", "expected"),
    [
        (
            "http://127.0.0.1:8820/ws?id=42",
            {"hub.mode": "subscribe"},
            "http://127.0.0.1:8820/ws?id=42&hub.mode=subscribe",
        ),
        ("https://s.vn/ws", {"a": "1 2"}, "https://s.vn/ws?a=1+2"),
        ("https://s.vn/ws?a=1&a=2", {"a": "3"}, "https://s.vn/ws?a=1&a=2&a=3"),
        ("https://s.vn/ws?", {"b": "1"}, "https://s.vn/ws?b=1"),
        ("https://s.vn/ws?x=1#frag", {"b": "1"}, "https://s.vn/ws?x=1&b=1"),
    ],
)
def test_with_query_keeps_the_query_that_was_there(base: str, params: dict[str, str], expected: str) -> None:
    assert with_query(base, params) == expected


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("https://api.telegram.org", "/botT/sendMessage", "https://api.telegram.org/botT/sendMessage"),
        ("https://proxy.vn/tg/?key=k", "/botT/sendMessage", "https://proxy.vn/tg/botT/sendMessage?key=k"),
        ("https://b.vn/site?lang=vi", "/unsubscribe/tok", "https://b.vn/site/unsubscribe/tok?lang=vi"),
    ],
)
def test_with_path_extends_the_path_and_keeps_the_query(base: str, path: str, expected: str) -> None:
    assert with_path(base, path) == expected
