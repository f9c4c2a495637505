"""A console address with a malformed path or query answers the console's HTML error page,
in the request's language, naming the field and the reason: never FastAPI's JSON 422."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("path", "field", "reason"),
    [
        ("/console/articles?page=abc", "page", "phải là một số nguyên"),
        ("/console/articles?page=0", "page", "phải từ 1 trở lên"),
        ("/console/deliveries?page=100001", "page", "phải không quá 100000"),
        ("/console/subscribers?page=x", "page", "phải là một số nguyên"),
        ("/console/media?limit=500", "limit", "phải không quá 100"),
    ],
)
def test_a_malformed_query_is_a_422_page_naming_the_field(
    admin: tuple[TestClient, str], path: str, field: str, reason: str
) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Yêu cầu không hợp lệ" in response.text
    assert f"“{field}”: {reason}." in response.text


@pytest.mark.parametrize(
    "path",
    ["/console/articles/abc", "/console/subscribers/x1", "/console/articles/1/revisions/z"],
)
def test_a_non_number_id_in_the_path_is_no_such_page(admin: tuple[TestClient, str], path: str) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy" in response.text
    assert "phải là một số nguyên" in response.text


def test_the_error_page_speaks_english_on_the_english_console(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    response = client.get("/console/articles?page=abc&lang=en")
    assert response.status_code == 422
    assert "Invalid request" in response.text
    assert "“page”: must be a whole number." in response.text
    assert client.get("/console/articles/abc?lang=en").text.count("Not found") >= 1
