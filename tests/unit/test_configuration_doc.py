"""docs/configuration.md is generated from ``Settings`` (``make docs``): it must be what the
generator writes today, and the generator refuses a setting without a meaning or a meaning
without a setting."""

from __future__ import annotations

import pytest
from pydantic import Field

from config import docs
from config.settings import Settings


def test_the_committed_document_is_what_make_docs_writes() -> None:
    # A changed default, bound or meaning without `make docs` fails here.
    assert docs.DOC.read_text(encoding="utf-8") == docs.render(), "docs/configuration.md is out of date: make docs"


def test_every_setting_is_documented_once_with_its_default_and_bounds() -> None:
    text = docs.render()
    for name in Settings.model_fields:
        assert text.count(f"| `BANTIN_{name.upper()}` |") == 1, name
    assert "| `BANTIN_PAGE_SIZE` | `20` | integer, 1–100 |" in text
    assert "| `BANTIN_DIGEST_GRACE_HOURS` | `6` | number, ≥ 0, < 24 |" in text
    assert "| `BANTIN_REVIEW_REQUIRED` | `true` |" in text
    assert "| `BANTIN_SMTP_SECURITY` | `starttls` | `plain`, `starttls`, `tls` |" in text
    assert "| `BANTIN_ADMIN_SUBSCRIPTION_ID` | unset | integer |" in text
    assert "| `BANTIN_REMINDER_GRACE_SECONDS` | `43200` (12 h) |" in text


class WithANewSetting(Settings):
    digest_monthly_on: int = Field(1, ge=1, le=28)


def test_a_setting_without_a_meaning_is_refused_by_name() -> None:
    with pytest.raises(docs.UndocumentedSettings, match=r"no meaning for \['BANTIN_DIGEST_MONTHLY_ON'\]"):
        docs.render(fields=WithANewSetting.model_fields)


def test_a_meaning_without_a_setting_and_a_setting_documented_twice_are_refused() -> None:
    sections = docs.meanings()
    gone: dict[str, str | docs.Described] = {"feed_ttl_minutes": "a setting that was removed"}
    stale = {**sections, "Gone": gone}
    with pytest.raises(docs.UndocumentedSettings, match=r"no such setting \['BANTIN_FEED_TTL_MINUTES'\]"):
        docs.render(sections=stale)
    again: dict[str, str | docs.Described] = {"port": "listed in two sections"}
    twice = {**sections, "Again": again}
    with pytest.raises(docs.UndocumentedSettings, match=r"twice \['BANTIN_PORT'\]"):
        docs.render(sections=twice)
