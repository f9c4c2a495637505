"""Issue 18, item 16: every PATCH of the OpenAPI document, every field of its body, sent
``null`` and sent a value of a JSON type the field does not take. ``null`` is taken exactly
where the document says the field is nullable (it clears it); anywhere else, and for a
wrong type, the answer is a 422 naming the field, and nothing changes
(``PATCH /api/v1/calendar/key-dates/{id}`` with ``{"scope": null}`` was a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from service.api.errors import FieldErrors
from tests.unit.api.conftest import make_token

# One value of each JSON type; a field is sent those its schema does not admit.
SAMPLES: dict[str, Any] = {
    "object": {"x": 1},
    "array": ["x"],
    "integer": 12345,
    "string": "not-a-value",
    "boolean": True,
}
# Pydantic's lax mode takes these on purpose (numbers from booleans); they are not sent.
COERCED = {("boolean", "integer"), ("boolean", "number"), ("integer", "number")}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def json_types(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """The JSON types a property's schema admits ("number" admits integers too)."""
    schema = resolve(document, schema)
    branches: list[dict[str, Any]] = schema.get("anyOf") or schema.get("oneOf") or []
    if branches:
        return set().union(*(json_types(document, branch) for branch in branches))
    if "const" in schema or "enum" in schema:
        values = schema.get("enum", [schema.get("const")])
        return {"null" if value is None else "string" if isinstance(value, str) else "other" for value in values}
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind} if kind else {"object", "array", "string", "integer"}
    return kinds | ({"integer"} if "number" in kinds else set())


def resources(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    """A URL for each PATCH path of the document, naming a resource that exists."""
    article = client.post("/api/v1/articles", json={"title": "Bài", "body_html": "<p>x</p>"}, headers=headers).json()
    subscription = client.post(
        "/api/v1/subscriptions", json={"channel": "email", "target": "ban-doc@vidu.vn"}, headers=headers
    ).json()
    key_date = {"id": "ngay-thu", "name": "Ngày thử", "calendar": "solar", "day": 2, "month": 9}
    assert client.post("/api/v1/calendar/key-dates", json=key_date, headers=headers).status_code == 201
    return {
        "/api/v1/articles/{article_id}": f"/api/v1/articles/{article['id']}",
        "/api/v1/subscriptions/{subscription_id}": f"/api/v1/subscriptions/{subscription['id']}",
        "/api/v1/calendar/key-dates/{key_date_id}": "/api/v1/calendar/key-dates/ngay-thu",
    }


def patch_fields(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, field, the field's schema) for every field of every PATCH body in the document."""
    for path, item in document["paths"].items():
        if "patch" in item:
            body = item["patch"]["requestBody"]["content"]["application/json"]["schema"]
            for name, schema in resolve(document, body)["properties"].items():
                yield path, name, schema


def refused_for(response: Any, field: str) -> list[str]:
    assert response.status_code == 422, (field, response.status_code, response.text[:300])
    items = FieldErrors.model_validate(response.json()).detail
    return [item.type for item in items if item.field == field or item.field.startswith(f"{field}.")]


def test_null_is_taken_exactly_where_the_document_says_and_refused_by_name_elsewhere(raw_client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {make_token('admin')}"}
    document = raw_client.get("/openapi.json").json()
    urls = resources(raw_client, headers)
    walked = list(patch_fields(document))
    assert {path for path, _, _ in walked} == set(urls), "a PATCH without a resource to try it on"
    for path, field, schema in walked:
        before = raw_client.get(urls[path], headers=headers).json()
        response = raw_client.patch(urls[path], json={field: None}, headers=headers)
        if "null" in json_types(document, schema):
            assert response.status_code == 200, (path, field, response.text[:300])
            assert response.json().get(field, None) is None, (path, field)
        else:
            assert refused_for(response, field) == ["not_null"], (path, field)
            assert raw_client.get(urls[path], headers=headers).json() == before, (path, field)


def test_a_value_of_another_json_type_is_a_422_naming_the_field(raw_client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {make_token('admin')}"}
    document = raw_client.get("/openapi.json").json()
    urls = resources(raw_client, headers)
    tried = 0
    for path, field, schema in patch_fields(document):
        admitted = json_types(document, schema)
        before = raw_client.get(urls[path], headers=headers).json()
        for kind, value in SAMPLES.items():
            if kind in admitted or any((kind, taken) in COERCED for taken in admitted):
                continue
            response = raw_client.patch(urls[path], json={field: value}, headers=headers)
            assert refused_for(response, field), (path, field, kind)
            tried += 1
        assert raw_client.get(urls[path], headers=headers).json() == before, (path, field)
    assert tried > 80  # about four wrong types for each of some thirty fields
