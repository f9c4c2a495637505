from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.errors import validation_items


def errors_of(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {item["field"]: item["message"] for item in validation_items(list(caught.value.errors()))}


def test_valid_article_is_normalised() -> None:
    article = ArticleCreate.model_validate(
        {
            "title": "  Kỷ niệm\n 97 năm  ",
            "body_html": "<p>x</p>",
            "categories": ["Xây dựng Đảng", "xây dựng đảng", "Thời sự"],
            "publish_at": "2027-02-03T08:00:00",
        }
    )
    assert article.title == "Kỷ niệm 97 năm"
    assert article.categories == ["Xây dựng Đảng", "Thời sự"]
    # No zone given: the newsroom's local time (08:00 in Hanoi is 01:00 UTC).
    assert article.publish_at == datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"body_html": "<p>x</p>"}, "title", "Field required"),
        ({"title": "   ", "body_html": "<p>x</p>"}, "title", "must not be empty"),
        ({"title": "a" * 301, "body_html": "<p>x</p>"}, "title", "301 characters long; the limit is 300"),
        ({"title": "t", "body_html": "   "}, "body_html", "must not be empty"),
        ({"title": "t", "body_html": "x", "image_url": "ftp://a/b"}, "image_url", "absolute http"),
        ({"title": "t", "body_html": "x", "source_url": "https://a b"}, "source_url", "spaces"),
        ({"title": "t", "body_html": "x", "categories": ["🎉"]}, "categories", "no letters or digits"),
        ({"title": "t", "body_html": "x", "categories": [""]}, "categories", "entry 0 is empty"),
        ({"title": "t", "body_html": "x", "status": "live"}, "status", "'published' or 'draft'"),
        ({"title": "t", "body_html": "x", "publish_at": "tomorrow"}, "publish_at", "datetime"),
        ({"title": "t", "body_html": "x", "colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_invalid_article_names_field_and_reason(data: dict[str, Any], field: str, fragment: str) -> None:
    errors = errors_of(ArticleCreate, data)
    assert field in errors, errors
    assert fragment in errors[field]


def test_body_limit_is_configurable(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_BODY_MAX_BYTES", "10")
    errors = errors_of(ArticleCreate, {"title": "t", "body_html": "<p>Đảng</p>x"})
    size = len("<p>Đảng</p>x".encode())
    assert errors["body_html"] == f"is {size} bytes; the limit is 10 bytes"


def test_update_refuses_null_for_required_fields_and_names_it() -> None:
    message = "must not be null: leave the field out to keep its value"
    assert errors_of(ArticleUpdate, {"title": None}) == {"title": message}


def test_update_reports_only_named_fields() -> None:
    update = ArticleUpdate.model_validate({"summary": None, "title": "Mới"})
    assert update.changes() == {"summary": None, "title": "Mới"}


def test_summary_has_a_length_limit_of_its_own() -> None:
    base = {"title": "T", "body_html": "<p>x</p>"}
    assert ArticleCreate.model_validate({**base, "summary": "ạ" * 1000}).summary == "ạ" * 1000
    errors = errors_of(ArticleCreate, {**base, "summary": "ạ" * 1001})
    assert errors["summary"] == "is 1001 characters long; the limit is 1000"
    assert "summary" in errors_of(ArticleUpdate, {"summary": "<p>" + "a" * 1001 + "</p>"})
