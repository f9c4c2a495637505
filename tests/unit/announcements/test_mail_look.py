"""E-mails look like the site and read on a phone and in dark mode (issue 23 §3); an article
without a summary is introduced by the start of its body, cut between words."""

from __future__ import annotations

import pytest

from service.db.models import Article
from service.db.types import utcnow
from service.events.announce import EXCERPT_CHARS, article_payload
from service.text import excerpt
from tests.unit.announcements.test_mail import mail, part

BODY = "<p>Sáng nay, Thành ủy Đà Nẵng tổ chức lễ kỷ niệm.</p><p>Đoàn đại biểu dâng hoa tại tượng đài.</p>"


def test_the_layout_declares_both_colour_schemes_and_fits_a_phone(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_ACCENT_COLOR", "#0a5c36")
    html = part(mail("article.published", {"article": {"title": "Tin", "url": "https://b.vn/a"}}), "html")
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html and "max-width:600px" in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "border-bottom:3px solid #0a5c36" in html


def test_an_article_without_a_summary_is_introduced_by_the_start_of_its_body() -> None:
    lead = excerpt(None, BODY, 60)
    assert lead == "Sáng nay, Thành ủy Đà Nẵng tổ chức lễ kỷ niệm…"  # the sentence, not "Đoàn đại…"
    assert excerpt("  ", BODY, EXCERPT_CHARS).endswith("tại tượng đài.")
    assert excerpt("Tóm tắt riêng", BODY, EXCERPT_CHARS) == "Tóm tắt riêng"
    article = {"title": "Lễ kỷ niệm", "summary": None, "excerpt": lead, "url": "https://b.vn/a"}
    text = part(mail("article.published", {"article": article}), "plain")
    assert text.startswith(f"Bài mới: Lễ kỷ niệm\n{lead}\nhttps://b.vn/a")


def test_an_article_announcement_carries_the_excerpt() -> None:
    article = Article(id=7, slug="le-ky-niem", guid="urn:x", title="Lễ kỷ niệm", summary=None, body_html=BODY,
                      author=None, image_url=None, published_at=None, updated_at=utcnow(), categories=[])  # fmt: skip
    payload = article_payload(article, "https://bantin.example.vn")["article"]
    assert payload["summary"] is None and payload["excerpt"].startswith("Sáng nay, Thành ủy Đà Nẵng")


def test_a_long_body_stops_at_a_sentence_rather_than_between_two_syllables_of_a_word() -> None:
    body = "<p>Sáng nay có lễ.</p>" + "<p>Tiếp tục lễ.</p>" * 30
    shown = excerpt(None, body, 100)
    assert shown.endswith("Tiếp tục lễ…") and len(shown) <= 100
