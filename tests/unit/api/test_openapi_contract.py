"""The OpenAPI document and the API agree: every error an operation answers is documented
with the shape it really has, and every documented error can be produced."""

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel

from service.api.app import REQUEST_OVERHEAD_BYTES
from service.api.errors import ErrorMessage, FieldErrors
from tests.unit.api.conftest import make_token

LIMIT = 1_000_000 + REQUEST_OVERHEAD_BYTES
SHAPES: dict[str, type[BaseModel]] = {"FieldErrors": FieldErrors, "ErrorMessage": ErrorMessage}
# Errors the probes below can produce on any operation that documents them.
PROBED = {"401", "403", "404", "413", "422"}
MATCHING = {r"^msg_[0-9a-f]{32}$": "msg_" + "0" * 32}
# A value a required query parameter of this format admits, so that the lookup itself is tried.
PLAUSIBLE = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01"}
# Bodies sent as application/json that no JSON parser should take (issue 18, items 11 and 17):
# each was Starlette's 400 "There was an error parsing the body", or a 500 further on.
UNPARSEABLE: dict[str, bytes] = {
    "not UTF-8": b'{"title": "\xff\xfe"}',
    "UTF-16": '{"title": "t"}'.encode("utf-16"),
    "truncated": b'{"title": ',
    "a form, not JSON": b"title=t&body_html=x",
    "nested past CPython's recursion limit": b"[" * 100_000,
    "nested past the bound": b'{"title": ' + b"[" * 500 + b"]" * 500 + b"}",
}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def fill(path: str, operation: dict[str, Any], number: str, word: str) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            integer = "integer" in str(parameter["schema"])
            # A word the parameter's pattern admits, so that the lookup itself is tried.
            admitted = MATCHING.get(parameter["schema"].get("pattern", ""), word) if word != "X!" else word
            path = path.replace("{" + parameter["name"] + "}", number if integer else admitted)
    return path


def probes(path: str, method: str, operation: dict[str, Any], existing: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what, request) pairs meant to provoke each kind of error; ``existing`` is an article made by a publish token."""
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    publish = {"Authorization": f"Bearer {make_token('publish')}"}
    missing = fill(path, operation, "987654321", "khong-co-dau")
    if operation.get("security"):
        yield "no token", {"url": missing, "headers": {}}
        yield "unknown token", {"url": missing, "headers": {"Authorization": "Bearer bantin_no-such-token"}}
        yield "publish token", {"url": missing, "headers": publish}
        # A writer's token on someone else's article, asking to publish where a body is taken.
        writer: dict[str, Any] = {
            "url": fill(path, operation, existing, "khong-co-dau"),
            "headers": {"Authorization": f"Bearer {make_token('write')}"},
        }
        if method in {"post", "put", "patch"} and "requestBody" in operation:
            writer["json"] = {"title": "Bài thử", "body_html": "<p>Thử</p>", "status": "published"}
        yield "write token", writer
    required = [p for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")]
    plausible = "&".join(f"{p['name']}={PLAUSIBLE.get(p['schema'].get('format'), '1')}" for p in required)
    unknown: dict[str, Any] = {"url": f"{missing}?{plausible}", "headers": admin}
    if method in {"post", "put", "patch"} and "requestBody" in operation:
        unknown["json"] = {}  # every field of a PATCH is optional; a POST answers 422 for it
    yield "unknown id or name", unknown
    if required:
        yield "required query parameter missing", {"url": missing, "headers": admin}
    if "{" in path:
        yield "id out of range", {"url": fill(path, operation, "0", "X!"), "headers": admin}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and "integer" in str(parameter["schema"]):
            yield f"bad {parameter['name']}", {"url": f"{missing}?{parameter['name']}=x", "headers": admin}
    if method in {"post", "put", "patch"}:
        json_headers = {**admin, "Content-Type": "application/json"}
        yield "wrong body", {"url": missing, "headers": json_headers, "content": b"[]"}
        yield "body without a content type", {"url": missing, "headers": admin, "content": b'{"title": "t"}'}
        for what, body in UNPARSEABLE.items():
            yield f"body {what}", {"url": missing, "headers": json_headers, "content": body}
        yield "body too large", {"url": missing, "headers": json_headers, "content": b" " * (LIMIT + 1)}
        yield (
            "chunked body too large",
            {
                "url": missing,
                "headers": json_headers,
                "content": (b" " * 65536 for _ in range(LIMIT // 65536 + 2)),
            },
        )


def test_the_document_describes_our_error_shape_not_fastapis(raw_client: TestClient) -> None:
    document = raw_client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["ErrorItem"]["required"]) == {"field", "message", "type"}
    assert schemas["FieldErrors"]["properties"]["detail"]["items"] == {"$ref": "#/components/schemas/ErrorItem"}
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")) and "application/json" in response.get("content", {}):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                expected = "FieldErrors" if code in {"400", "413", "422"} else "ErrorMessage"
                if (path, code) == ("/readyz", "503"):
                    expected = "Readiness"  # not an error in the request: the same document as its 200
                assert ref == f"#/components/schemas/{expected}", (method, path, code)


def test_every_operation_answers_only_documented_errors_in_the_documented_shape(raw_client: TestClient) -> None:
    document = raw_client.get("/openapi.json").json()
    produced: dict[tuple[str, str], set[str]] = {}
    publish = {"Authorization": f"Bearer {make_token('publish')}"}
    draft = {"title": "Bài của biên tập viên", "body_html": "<p>Nháp</p>", "status": "draft"}
    existing = str(raw_client.post("/api/v1/articles", json=draft, headers=publish).json()["id"])
    for path, method, operation in operations(document):
        documented = operation["responses"]
        for what, request in probes(path, method, operation, existing):
            response = raw_client.request(method.upper(), **request)
            status = str(response.status_code)
            assert response.status_code < 500, (method, path, what, response.text[:200])
            if response.status_code < 400:
                continue
            assert status in documented, f"{method.upper()} {path} answered {status} to {what}: undocumented"
            content = documented[status]["content"]
            if "text/html" in content:  # a page: an unknown link's 404
                assert response.headers["content-type"].startswith("text/html"), (method, path, what)
            elif method != "head":  # HEAD answers carry no body
                ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                SHAPES[ref].model_validate(response.json())
            produced.setdefault((method, path), set()).add(status)
    for path, method, operation in operations(document):
        unproduced = (set(operation["responses"]) & PROBED) - produced.get((method, path), set())
        assert not unproduced, f"{method.upper()} {path} documents {sorted(unproduced)} but never answered them"


def test_conflicts_are_documented_where_they_happen(raw_client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    document = raw_client.get("/openapi.json").json()
    article = raw_client.post("/api/v1/articles", json={"title": "t", "body_html": "x"}, headers=admin).json()
    raw_client.delete(f"/api/v1/articles/{article['id']}", headers=admin)
    sub = raw_client.post("/api/v1/subscriptions", json={"channel": "email", "target": "a@b.vn"}, headers=admin)
    raw_client.patch(f"/api/v1/subscriptions/{sub.json()['id']}", json={"status": "paused"}, headers=admin)
    key_date = {"name": "Ngày A", "calendar": "solar", "day": 1, "month": 5}
    raw_client.post("/api/v1/calendar/key-dates", json=key_date, headers=admin)
    forgotten = {"channel": "email", "target": "quen@b.vn"}
    raw_client.post("/api/v1/subscriptions", json=forgotten, headers=admin)
    raw_client.post("/api/v1/subscribers/forget", json={"target": "quen@b.vn"}, headers=admin)
    conflicts = [
        ("post", "/api/v1/subscriptions", "/api/v1/subscriptions", forgotten),
        ("patch", "/api/v1/articles/{article_id}", f"/api/v1/articles/{article['id']}", {"title": "x"}),
        (
            "post",
            "/api/v1/subscriptions/{subscription_id}/rotate-secret",
            f"/api/v1/subscriptions/{sub.json()['id']}/rotate-secret",
            None,
        ),
        (
            "post",
            "/api/v1/subscriptions/{subscription_id}/test",
            f"/api/v1/subscriptions/{sub.json()['id']}/test",
            None,
        ),
        (
            "post",
            "/api/v1/subscriptions/{subscription_id}/recover",
            f"/api/v1/subscriptions/{sub.json()['id']}/recover?since=2026-01-01",
            None,
        ),
        ("post", "/api/v1/calendar/key-dates", "/api/v1/calendar/key-dates", key_date),
    ]
    for method, template, url, body in conflicts:
        response = raw_client.request(method.upper(), url, json=body, headers=admin)
        assert response.status_code == 409, (url, response.text)
        assert "409" in document["paths"][template][method]["responses"]
        ErrorMessage.model_validate(response.json())


def test_an_oversized_body_html_is_413_naming_the_field(raw_client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    response = raw_client.post("/api/v1/articles", json={"title": "t", "body_html": "x" * 1_000_001}, headers=admin)
    assert response.status_code == 413
    assert FieldErrors.model_validate(response.json()).detail[0].field == "body_html"


def test_an_unparseable_json_body_is_a_422_naming_the_body_on_every_operation(raw_client: TestClient) -> None:
    document = raw_client.get("/openapi.json").json()
    headers = {"Authorization": f"Bearer {make_token('admin')}", "Content-Type": "application/json"}
    json_operations = [
        (path, method, operation)
        for path, method, operation in operations(document)
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(json_operations) >= 8  # the 8 operations Starlette answered with its own 400
    for path, method, operation in json_operations:
        url = fill(path, operation, "987654321", "khong-co-dau")
        for what, body in UNPARSEABLE.items():
            response = raw_client.request(method.upper(), url, content=body, headers=headers)
            assert response.status_code == 422, (method, path, what, response.text[:200])
            [item] = FieldErrors.model_validate(response.json()).detail
            assert (item.field, item.type) == ("body", "json_invalid"), (method, path, what, item)
            assert item.message.startswith("is not valid JSON: "), (method, path, what, item)


def test_an_unknown_unsubscribe_link_is_a_documented_page(raw_client: TestClient) -> None:
    document = raw_client.get("/openapi.json").json()
    unknown = ["X" * 43, "khong-co", "%00", "a" * 5000]
    for method in ("get", "post"):
        documented = document["paths"]["/unsubscribe/{token}"][method]["responses"]
        for token in unknown:
            response = raw_client.request(method.upper(), f"/unsubscribe/{token}")
            if method == "get" and token == "X" * 43:
                assert response.status_code == 200  # a page with a button: a GET never looks the link up
                continue
            assert response.status_code == 404, (method, token)
            assert "text/html" in documented["404"]["content"]
            assert response.headers["content-type"].startswith("text/html")
