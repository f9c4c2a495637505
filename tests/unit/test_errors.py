"""Domain errors carry a code and its values (decision 0032): the API's English is built from the
code, the same sentences as before; every code a person can meet has words in the catalogue."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.articles.schemas import ArticleCreate
from service.errors import ENGLISH, FieldError, InvalidField, field_errors, validation_items
from service.i18n import use_language
from service.web.refusals import WORDS, refusal

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Error types raised as such (pydantic's own, and PydanticCustomError types named in service.inputs).
PYDANTIC_TYPES = {"missing", "literal_error", "enum", "control_character"}


def test_an_invalid_field_names_its_rule_and_says_it_in_english() -> None:
    error = InvalidField("title", "too_long", length=301, limit=300)
    assert (error.code, error.params) == ("too_long", {"length": 301, "limit": 300})
    assert error.message == "is 301 characters long; the limit is 300" and str(error) == f"title: {error.message}"
    with use_language("vi"):
        assert refusal(FieldError.of(error)) == "Dài 301 ký tự; tối đa 300 ký tự."
    with use_language("en"):
        assert refusal(FieldError.of(error)) != "Dài 301 ký tự; tối đa 300 ký tự."


def test_a_schema_rule_keeps_the_apis_type_and_sentence_and_carries_its_code() -> None:
    with pytest.raises(ValidationError) as refused:
        ArticleCreate.model_validate({"title": "Đ" * 301, "body_html": "<p>x</p>", "source_url": "a b"})
    errors = list(refused.value.errors())
    assert validation_items(errors) == [
        {"field": "title", "message": "is 301 characters long; the limit is 300", "type": "value_error"},
        {
            "field": "source_url",
            "message": "must not contain spaces, control characters or invisible formatting characters",
            "type": "value_error",
        },
    ]
    [title, url] = field_errors(errors)
    assert (title.code, title.params) == ("too_long", {"length": 301, "limit": 300})
    assert (url.code, url.params) == ("url_characters", {})


def test_a_body_over_its_size_keeps_the_type_the_api_answers_413_for() -> None:
    with pytest.raises(ValidationError) as refused:
        ArticleCreate.model_validate({"title": "T", "body_html": "x" * 3_000_000})
    [item] = validation_items(list(refused.value.errors()))
    assert item == {
        "field": "body_html",
        "message": "is 3000000 bytes; the limit is 1000000 bytes",
        "type": "too_large",
    }


def test_every_worded_code_is_a_rule_and_its_words_fill_from_the_rules_values() -> None:
    for code, msgid in WORDS.items():
        if code in PYDANTIC_TYPES:
            continue
        assert code in ENGLISH, code
        values = {name for _, name, _, _ in string.Formatter().parse(ENGLISH[code]) if name}
        assert set(PLACEHOLDER.findall(msgid)) <= values, code


def test_every_code_the_service_raises_has_its_english() -> None:
    # A code raised without a sentence would be a KeyError where the refusal should be.
    raised = []
    for path in sorted((Path(__file__).resolve().parents[2] / "service").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                position = {"InvalidField": 1, "EgressDenied": 0, "invalid": 0}.get(name)
                argument = node.args[position] if position is not None and len(node.args) > position else None
                if isinstance(argument, ast.Constant):
                    raised.append(str(argument.value))
    assert len(raised) > 100
    assert sorted({code for code in raised if code not in ENGLISH}) == []
