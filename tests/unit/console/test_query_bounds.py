"""Issue 18, item 12: every query parameter of the console, and every query parameter and
path segment of the public pages, is bounded like the API's (service/inputs.py): a value
out of range, too long or holding a control character is a 4xx page naming it, never a
500. ``/console/articles?page=`` with 21 digits overflowed the driver; on PostgreSQL a NUL
byte in ``?q=`` or in a category slug reached a query (tests/integration/test_query_bounds_pg.py
walks the same requests there).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
from fastapi.dependencies.utils import get_flat_params
from fastapi.params import Query
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.console.common import ConsoleRoute

# Query values a hand-edited address can carry, percent-encoded as they travel.
HOSTILE = {
    "21 digits": "1" * 21,
    "past a bigint": "9223372036854775808",
    "negative": "-1",
    "zero": "0",
    "a fraction": "1.5",
    "a NUL byte": "%00",
    "a newline": "%0A",
    "bytes that are not UTF-8": "%FF%FE",
    "a bidi control": "%E2%80%AE",
    "3,000 characters": "x" * 3000,
}
# A value for each path parameter of the console's routes.
SAMPLES = {"key_date_id": "tet", "path": "x"}
# Public pages are answered outside FastAPI's router (decision 21): their parameters are listed here.
PUBLIC_QUERIES = {
    "/": ("before", "lang"),
    "/categories/xay-dung-dang": ("before", "lang"),
    "/articles/1/bai-viet": ("lang",),
    "/tim-kiem": ("q", "category", "page", "lang"),
    "/search": ("q", "category", "page", "lang"),
    "/theo-doi": ("lang",),
    "/feeds/atom.xml": ("lang",),
    "/calendar.ics": ("lang",),
    "/sitemap.xml": ("lang",),
    "/static/site.css": ("v",),
    "/subscribe": ("lang",),
    "/subscribe/sent": ("lang",),
    "/subscribe/preferences/1/khong-co": ("done", "lang"),
    "/unsubscribe/khong-co": ("lang",),
}
# Public paths with a segment a visitor types: {} is where the hostile value goes.
PUBLIC_SEGMENTS = (
    "/categories/{}",
    "/feeds/categories/{}/rss.xml",
    "/articles/{}/bai-viet",
    "/articles/1/{}",
    "/sitemaps/{}.xml",
    "/static/{}",
    "/media/{}",
    "/unsubscribe/{}",
    "/subscribe/confirm/{}",
    "/subscribe/preferences/1/{}",
)


def console_queries() -> Iterator[tuple[str, str]]:
    """(path, query parameter) for every query parameter of every console GET route of the app."""
    for context in iter_route_contexts(create_app().router.routes):
        route = context.original_route
        if isinstance(route, ConsoleRoute) and "GET" in (route.methods or set()):
            path = re.sub(r"\{(\w+)(:path)?\}", lambda match: SAMPLES.get(match.group(1), "1"), route.path)
            for parameter in get_flat_params(route.dependant):
                if isinstance(parameter.field_info, Query):
                    yield path, parameter.alias


def refusals(client: TestClient) -> Iterator[tuple[str, httpx.Response]]:
    """Every hostile request of the console and the public pages, with its answer."""
    queries = [*console_queries(), *((path, name) for path, names in PUBLIC_QUERIES.items() for name in names)]
    for path, name in queries:
        for value in HOSTILE.values():
            url = f"{path}?{name}={value}"
            yield url, client.get(url)
    for template in PUBLIC_SEGMENTS:
        for value in HOSTILE.values():
            url = template.format(value)
            yield url, client.get(url)


def test_the_walk_covers_every_console_list_filter() -> None:
    walked = set(console_queries())
    for expected in (("/console/articles", "page"), ("/console/articles", "q"), ("/console/deliveries", "page")):
        assert expected in walked
    assert len(walked) >= 12


def test_no_hostile_query_or_path_segment_is_a_500(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    for url, response in refusals(client):
        assert response.status_code < 500, (url, response.status_code)


def test_a_page_number_out_of_range_is_a_422_naming_page(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    for path in ("/console/articles", "/console/subscribers", "/console/deliveries"):
        for value in ("1" * 21, "9223372036854775808", "100001", "0", "-1", "x"):
            response = client.get(f"{path}?page={value}")
            assert response.status_code == 422, (path, value)
            assert "“page”:" in response.text
        assert client.get(f"{path}?page=100000").status_code == 200


def test_search_text_is_bounded_and_has_no_control_characters(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    for value, reason in (("%00", "không được chứa ký tự điều khiển"), ("x" * 201, "dài quá 200 ký tự")):
        response = client.get(f"/console/articles?q={value}")
        assert response.status_code == 422
        assert f"“q”: {reason}" in response.text
    assert client.get("/console/articles?q=%C4%90%E1%BA%A3ng").status_code == 200  # "Đảng"
    english = client.get("/console/articles?q=%00&lang=en")
    assert "must not contain control characters" in english.text
