"""Issue 18, item 13: every resource refuses other methods with 405 naming all of its own
(RFC 9110 §15.5.6), and a request field sent on several lines is one value wherever it is
read (RFC 9110 §5.3)."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.types import utcnow
from service.media.images import Budget, clean_image
from service.media.store import file_name, store_image
from tests.unit.api.test_feeds_api import publish_and_render
from tests.unit.media.samples import photo_with_exif

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Answered by the documents layer (service/api/documents.py), not by a FastAPI route.
DOCUMENTS = (
    "/healthz",
    "/feeds/rss.xml",
    "/feeds/atom.xml",
    "/feeds/feed.json",
    "/feeds/categories/xay-dung-dang/rss.xml",
    "/feeds/categories/khong-co/feed.json",
    "/calendar.ics",
    "/",
    "/categories/xay-dung-dang",
    "/articles/1/bai-viet",
)
# A value for each path parameter that names something of its kind (whether or not it exists).
SAMPLES = {"delivery_id": "msg_" + "0" * 32, "path": "trix.css", "name": "site.css", "token": "X" * 43}


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda match: SAMPLES.get(match.group(1), "1"), template)


def admits(template: str, path: str) -> bool:
    """Whether a route template routes ``path``: ``{name}`` is one segment, ``{name:path}`` any."""
    parts = re.split(r"(\{\w+(?::path)?\})", template)
    pattern = "".join(
        (".+" if part.endswith(":path}") else "[^/]+") if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.fullmatch(pattern, path) is not None


def routed_methods(client: TestClient) -> dict[str, set[str]]:
    """Each route template's methods, from the route table (HEAD with GET: the documents layer answers it)."""
    methods: dict[str, set[str]] = defaultdict(set)
    for route in iter_route_contexts(client.app.router.routes):  # type: ignore[attr-defined]
        if route.path and route.methods:
            methods[route.path] |= route.methods | ({"HEAD"} if "GET" in route.methods else set())
    return methods


def test_every_route_refuses_other_methods_with_405_naming_all_its_methods(raw_client: TestClient) -> None:
    routed = routed_methods(raw_client)
    assert len(routed) > 60  # API, console, pages, readers: the whole table
    document = raw_client.get("/openapi.json").json()
    for template in routed:
        path = concrete(template)
        # Templates that admit the same path ("/articles/new/preview", "/articles/{id}/preview") are one resource.
        allowed = set().union(*(methods for other, methods in routed.items() if admits(other, path)))
        documented = {method.upper() for method in document["paths"].get(template, {})}
        assert documented <= allowed, template  # the document names no method the route lacks
        for method in set(METHODS) - allowed:
            response = raw_client.request(method, path)
            assert response.status_code == 405, (method, template, response.status_code)
            named = {name.strip() for name in response.headers["allow"].split(",")}
            assert named == allowed, (method, template, response.headers["allow"])
            if method != "HEAD":
                assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("path", DOCUMENTS)
def test_feeds_the_calendar_healthz_and_pages_refuse_other_methods_naming_get_and_head(
    raw_client: TestClient, path: str
) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = raw_client.request(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == "GET, HEAD"
        assert response.json() == {"detail": "Method Not Allowed"}


def validated_paths(client: TestClient, publisher: dict[str, str]) -> list[str]:
    """One resource of each kind answered with an ETag: feeds, the calendar, pages, sitemaps,
    robots.txt, static files, the favicon and an uploaded image."""
    article = publish_and_render(client, publisher)
    settings = get_settings()
    with session_scope() as session:
        media = store_image(session, clean_image(photo_with_exif(), Budget.of(settings)), None, utcnow(), settings)
    return [
        "/feeds/atom.xml",
        "/feeds/categories/xay-dung-dang/feed.json",
        "/calendar.ics",
        "/",
        "/categories/xay-dung-dang",
        f"/articles/{article['id']}/{article['slug']}",
        "/sitemap.xml",
        "/robots.txt",
        "/static/site.css",
        "/favicon.ico",
        f"/media/{file_name(media)}",
    ]


def test_if_none_match_on_two_lines_matches_whichever_line_names_the_etag(
    client: TestClient, publisher: dict[str, str]
) -> None:
    for path in validated_paths(client, publisher):
        first = client.get(path)
        assert first.status_code == 200, path
        etag = first.headers["etag"]
        # Feeds read the last line, pages the first: each order failed one of them.
        for lines in ([etag, '"another"'], ['"another"', etag], ['"a", "b"', f"W/{etag}"]):
            response = client.get(path, headers=[("If-None-Match", line) for line in lines])
            assert response.status_code == 304, (path, lines)
        neither = client.get(path, headers=[("If-None-Match", '"a"'), ("If-None-Match", '"b"')])
        assert neither.status_code == 200, path


def test_if_modified_since_on_two_lines_is_ignored_everywhere(client: TestClient, publisher: dict[str, str]) -> None:
    # Not one date (RFC 9110 §13.1.3): neither line may decide, so every validated resource answers 200.
    later = "Thu, 01 Jan 2099 00:00:00 GMT"
    publish_and_render(client, publisher)
    for path in ("/feeds/atom.xml", "/calendar.ics", "/", "/sitemap.xml", "/robots.txt"):
        assert client.get(path, headers={"If-Modified-Since": later}).status_code == 304, path
        twice = client.get(path, headers=[("If-Modified-Since", later), ("If-Modified-Since", later)])
        assert twice.status_code == 200, path


def test_accept_encoding_on_two_lines_is_one_list(client: TestClient, publisher: dict[str, str]) -> None:
    publish_and_render(client, publisher)
    response = client.get("/feeds/atom.xml", headers=[("Accept-Encoding", "gzip;q=0.5"), ("Accept-Encoding", "br")])
    assert response.headers["content-encoding"] == "br"
    response = client.get("/feeds/atom.xml", headers=[("Accept-Encoding", "br"), ("Accept-Encoding", "gzip;q=0.5")])
    assert response.headers["content-encoding"] == "br"
