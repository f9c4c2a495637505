"""Every channel's length limit is met by cutting the plain text first and escaping after."""

import html
import json
import re
import unicodedata

import pytest

from service.announcements.compose import render_text
from service.announcements.message import AnnouncementText
from service.channels.chat import DiscordChannel, SlackChannel, TeamsChannel, discord_markdown, slack_mrkdwn
from service.channels.telegram import MAX_TEXT, telegram_html
from service.channels.text import fit, utf16_length
from service.channels.zalo_forms import MAX_TEXT as ZALO_MAX

URL = "https://b.vn/articles/1/quoc-khanh?a=1&b=2"
# Every character here needs escaping in one markup or another, and some are outside the BMP.
NASTY = '<b>&amp; "Tết" <!channel> *đậm* [x](http://evil) 😀 Đà Nẵng & '


def payload(summary: str, title: str = "Quốc khánh <2/9> & Tết") -> dict[str, object]:
    return {"article": {"title": title, "summary": summary, "url": URL}}


def telegram_visible_text(message: str) -> str:
    """What Telegram counts: the text after entity parsing (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"</?(?:b|a)(?: href=\"[^\"]*\")?>", "", message))


@pytest.mark.parametrize("summary", [NASTY * 200, "a" * 4100, "😀" * 3000, "&" * 5000, "e\u0301" * 3000])
def test_telegram_fits_4096_after_entity_parsing_with_tags_whole(summary: str) -> None:
    message = telegram_html(render_text("article.published", payload(summary), "vi"))
    visible = telegram_visible_text(message)
    assert utf16_length(visible) <= MAX_TEXT
    assert message.startswith("<b>") and message.count("<b>") == message.count("</b>") == 1
    assert message.endswith(f'<a href="{html.escape(URL)}">{html.escape(URL)}</a>')  # the link is never cut
    assert "…" in visible
    assert not re.search(r"&[a-z#0-9]*$", message.split("\n")[1])  # no entity cut in half
    kept = visible.split("\n")[1].removesuffix("…")
    assert not unicodedata.combining(kept[0]) and summary.startswith(kept)
    if summary.startswith("e\u0301"):
        assert kept.endswith("e\u0301")  # a letter and its mark stay together


def test_short_messages_are_not_touched() -> None:
    message = telegram_html(render_text("article.published", payload("Tóm tắt"), "vi"))
    assert "…" not in message and "Tóm tắt" in message


def test_fit_keeps_the_link_and_marks_the_cut() -> None:
    words = render_text("article.published", payload("x" * 100), "vi")
    cut = fit(words, 60)
    assert len(cut.text) <= 60 and cut.text.endswith("…\n" + URL) and cut.url == URL
    tiny = fit(words, 10)  # not even the link fits: everything is cut like text
    assert len(tiny.text) <= 10 and tiny.text.endswith("…")


@pytest.mark.parametrize("summary", [NASTY * 200, "<" * 3000, "😀" * 3000])
def test_slack_section_text_fits_after_escaping(summary: str) -> None:
    words = fit(render_text("article.published", payload(summary), "vi"), 3000, lambda t: len(slack_mrkdwn(t, URL)))
    text = slack_mrkdwn(words.text, words.url)
    assert len(text) <= SlackChannel.MAX_SECTION_TEXT
    assert "<!channel>" not in text and "<<" not in text
    assert text.endswith(f"<{URL}|{URL.replace('&', '&amp;')}>")


@pytest.mark.parametrize("summary", [NASTY * 100, "*" * 3000, "😀" * 1500])
def test_discord_content_fits_2000_after_escaping(summary: str) -> None:
    words = fit(
        render_text("article.published", payload(summary), "vi"),
        DiscordChannel.MAX_CONTENT,
        lambda t: utf16_length(discord_markdown(t, URL)),
    )
    content = discord_markdown(words.text, words.url)
    assert utf16_length(content) <= DiscordChannel.MAX_CONTENT
    assert content.endswith("\n" + URL) and "\\[x\\]\\(http://evil\\)" in discord_markdown(NASTY, None)


def test_teams_and_zalo_fit_their_limits() -> None:
    words = fit(
        render_text("article.published", payload("Đ" * 30000), "vi"),
        TeamsChannel.MAX_TEXT_BYTES,
        lambda t: len(json.dumps({"t": t}, ensure_ascii=False).encode()),
    )
    assert len(json.dumps({"t": words.text}, ensure_ascii=False).encode()) <= TeamsChannel.MAX_TEXT_BYTES
    zalo = fit(render_text("article.published", payload("ờ" * 5000), "vi"), ZALO_MAX)
    assert len(zalo.text) <= ZALO_MAX and zalo.text.endswith(URL)


def test_prepared_reminder_text_is_cut_too() -> None:
    reminder = {"text": {"vi": "Nhắc: " + "ư" * 5000}, "subject": {"vi": "Nhắc"}}
    words = fit(render_text("reminder.due", reminder, "vi"), 100)
    assert isinstance(words, AnnouncementText) and len(words.text) <= 100
