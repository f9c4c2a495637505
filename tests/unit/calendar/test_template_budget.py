"""Key-date templates are held to a budget (issue 18, item 15; decision 0030): refused when
saved with a reason naming the limit, and never blowing up when a reminder is sent."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.calendar import sandbox
from service.calendar.schemas import KeyDateIn
from service.calendar.text import compiled
from tests.unit.api.conftest import make_token

BASE = {"name": "Ngày truyền thống", "calendar": "solar", "day": 3, "month": 2, "origin_year": 1930}
STRING_TIMES_TEN_MILLION = "{{ 'x' * 10**7 }}"


def refusal(template: str) -> str:
    with pytest.raises(ValidationError) as caught:
        KeyDateIn.model_validate({**BASE, "templates": {"vi": template}})
    error = caught.value.errors()[0]
    assert error["ctx"]["field"] == "templates"
    return str(error["msg"])


@pytest.mark.parametrize(
    ("template", "limit"),
    [
        (STRING_TIMES_TEN_MILLION, "'*' makes a value of 10,000,000 items; at most 1,000"),
        ("{{ (range(1000)|list) * 1000 }}", "'*' makes a value of 1,000,000 items; at most 1,000"),
        ("{{ 10 ** (10 ** 10) }}", "over 4,096 bits"),
        ("{{ 7 ** 10000 }}", "over 4,096 bits"),
        ("{% for i in range(10**9) %}{% endfor %}x", "range() of 1,000,000,000 numbers; at most 1,000"),
        ("{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}x", "at most 1,000"),
        ("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}x", "more than 5,000 steps"),
        ("{% for c in 'x' * 1000 %}{% for d in 'y' * 1000 %}{% endfor %}{% endfor %}x", "more than 5,000 steps"),
        (
            "{% macro f(s, n) %}{{ f(s ~ s, n - 1) if n else s }}{% endmacro %}{{ f('x', 40)|length }}",
            "makes a value of 1,024 items; at most 1,000",
        ),
        ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macros nested more than 32 deep"),
        ("{{ range(1000)|join('x' * 1000) }}", "the filter join makes a value of"),
        ("{{ ('ab' * 500)|list|join('x' * 999) }}", "the filter join makes a value of"),
        ("{% for i in range(1000) %}Kỷ niệm {% endfor %}", "renders more than 1,000 characters"),
        (
            "{% set x %}{% for i in range(1000) %}{% for j in range(1000) %}{{ 'y' * 1000 }}{% endfor %}"
            "{% endfor %}{% endset %}{{ x|length }}",
            "more than 5,000 steps",
        ),
        ("{{ 'x'.ljust(10**9) }}", "ljust() with 1,000,000,000: a width or count is at most 1,000"),
        ("{{ name.zfill(10**8) }}", "a width or count is at most 1,000"),
        ("{{ ('\t' * 100).expandtabs(10**6) }}", "a width or count is at most 1,000"),
        ("{{ name|center(10**9) }}", "the filter center with 1,000,000,000"),
        ("{{ name|indent(10**9) }}", "the filter indent with 1,000,000,000"),
        ("{{ '%0999999999d' % 1 }}", "a width or precision is at most 1,000"),
        ("{{ '%*d'|format(10**9, 1) }}", "a width or precision is at most 1,000"),
        ("{{ '{:>999999999}'.format(name) }}", "a width or precision is at most 1,000"),
        ("{{ '{:{w}}'.format(name, w=10**9) }}", "not a nested field"),
    ],
    ids=[
        "string times ten million",
        "list times a thousand",
        "power tower",
        "big power",
        "range of a billion",
        "2000 by 2000 loop",
        "1000 by 1000 loop",
        "loops over strings",
        "doubling recursive macro",
        "endless recursive macro",
        "huge join",
        "join of a long list",
        "long output",
        "output kept in a set block",
        "ljust",
        "zfill",
        "expandtabs",
        "center",
        "indent",
        "printf width",
        "printf star width",
        "format width",
        "nested format width",
    ],
)
def test_a_template_over_its_budget_is_refused_naming_the_limit(template: str, limit: str) -> None:
    message = refusal(template)
    assert "over the template budget" in message and limit in message, message


@pytest.mark.parametrize(
    "template",
    [
        "{{ lipsum(10**6) }}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    ],
    ids=["lipsum", "namespace"],
)
def test_what_writes_pages_or_carries_state_across_loops_is_not_offered(template: str) -> None:
    assert "is undefined" in refusal(template)


def test_a_template_source_is_at_most_2000_characters() -> None:
    with pytest.raises(ValidationError) as caught:
        KeyDateIn.model_validate({**BASE, "templates": {"vi": "{{ name }}" + " " * 2000}})
    (error,) = caught.value.errors()
    assert error["loc"] == ("templates",) and "vi: a template is at most 2,000 characters" in error["msg"]


def test_templates_within_the_budget_keep_working() -> None:
    # An anniversary of 1,927 (origin year 100) and years as values, not widths.
    template = (
        "{{ name }}: {{ anniversary|string }} năm, {{ '%d'|format(2027) }}, {{ '{}'.format(2027) }}, "
        "{{ origin|default(2027) }}{% for flag in flags %} [{{ flag }}]{% endfor %}{{ ' ' * 3 }}"
        "{{ range(1000)|list|length }}"
    )
    data = KeyDateIn.model_validate({**BASE, "origin_year": 100, "templates": {"vi": template}})
    assert data.templates["vi"] == template


def test_the_render_leaves_the_thread_s_tracer_as_it_found_it() -> None:
    def tracer(frame: Any, event: str, arg: Any) -> None:
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        assert sandbox.render(compiled("{{ a }}"), {"a": "x"}) == "x"
        with pytest.raises(sandbox.OverBudget):
            sandbox.render(compiled("{% for i in range(1000) %}{% for j in range(9) %}{% endfor %}{% endfor %}"), {})
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


def test_the_api_refuses_the_issue_s_template_with_its_limit() -> None:
    with TestClient(__import__("service.api.app", fromlist=["create_app"]).create_app()) as client:
        admin = {"Authorization": f"Bearer {make_token('admin')}"}
        refused = client.post(
            "/api/v1/calendar/key-dates", json={**BASE, "templates": {"vi": STRING_TIMES_TEN_MILLION}}, headers=admin
        )
        assert refused.status_code == 422
        (item,) = refused.json()["detail"]
        assert item["field"] == "templates" and "at most 1,000" in item["message"]
