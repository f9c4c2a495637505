"""The Zalo OA API's forms (decision 0040): the promotion template's shape and limits, what
each answer means, and when a follower is known to be outside the 7-day window."""

from __future__ import annotations

import pytest

from service.announcements.message import Message
from service.channels.zalo_forms import (
    COLD_MARK,
    WINDOW_MS,
    Answer,
    cs_document,
    known_cold,
    promotion_document,
    read_answer,
)
from tests.integration.zalo_api import template_problem

URL = "https://bantin.example/articles/7/le-hoi"
COVER = "https://bantin.example/media/abc.jpg"
NOW = 1_800_000_000_000


def article(title: str = "Lễ hội mùa thu", summary: str = "Tóm tắt bài", image: str | None = COVER) -> Message:
    return Message(
        data={},
        subject=title,
        text=f"Bài mới: {title}\n{summary}\n{URL}",
        url=URL,
        image_url=image,
        link_label="Xem",
    )


def test_a_promotion_carries_the_cover_the_title_the_summary_and_a_button_to_the_page() -> None:
    document = promotion_document("42", article(), "Đọc bài")
    assert document["recipient"] == {"user_id": "42"}
    attachment = document["message"]["attachment"]
    assert attachment["type"] == "template"
    payload = attachment["payload"]
    assert payload["template_type"] == "promotion"
    assert payload["elements"] == [
        {"type": "banner", "image_url": COVER},
        {"type": "header", "align": "left", "content": "Lễ hội mùa thu"},
        {"type": "text", "align": "left", "content": "Bài mới: Lễ hội mùa thu\nTóm tắt bài"},
    ]
    assert payload["buttons"] == [{"title": "Xem", "type": "oa.open.url", "payload": {"url": URL}}]
    assert template_problem(payload) is None  # the local OA, which checks as documented, takes it


def test_long_words_are_cut_to_the_documented_limits_and_still_accepted() -> None:
    message = article(title="Tiêu đề " * 40, summary="ờ" * 5000)
    payload = promotion_document("42", message, "Đọc bài")["message"]["attachment"]["payload"]
    header, text = payload["elements"][1]["content"], payload["elements"][2]["content"]
    assert len(header) == 100 and header.endswith("…")
    assert len(text) == 1000 and text.endswith("…")
    assert template_problem(payload) is None


def test_no_banner_without_an_http_image_and_no_button_without_a_link() -> None:
    message = Message(data={}, subject="Tin nhắn", text="Tin nhắn\nNội dung", image_url="/media/a.jpg")
    payload = promotion_document("42", message, "Đọc bài")["message"]["attachment"]["payload"]
    assert [e["type"] for e in payload["elements"]] == ["header", "text"]
    assert "buttons" not in payload
    assert template_problem(payload) is None


def test_the_button_title_falls_back_to_the_given_words_within_35_characters() -> None:
    message = Message(data={}, subject="T", text=f"T\n{URL}", url=URL)
    payload = promotion_document("42", message, "Đọc bài này ngay bây giờ trên trang của chúng tôi")["message"]
    [button] = payload["attachment"]["payload"]["buttons"]
    assert len(button["title"]) == 35


def test_a_malformed_template_is_what_the_local_oa_refuses() -> None:
    payload = promotion_document("42", article(), "Đọc bài")["message"]["attachment"]["payload"]
    assert template_problem({**payload, "template_type": "media"}) == "template_type is invalid"
    assert template_problem({**payload, "elements": [{"type": "header", "content": "x" * 101}]}) is not None
    assert template_problem({**payload, "buttons": [{"type": "web_url", "title": "x"}]}) == "button.type is invalid"


def test_cs_text_is_the_documented_body() -> None:
    assert cs_document("42", "Xin chào") == {"recipient": {"user_id": "42"}, "message": {"text": "Xin chào"}}


@pytest.mark.parametrize(
    ("body", "meaning"),
    [
        ({"error": 0, "message": "Success"}, Answer.SENT),
        ({"error": -230, "message": "User has not interacted with the OA in the past 7 days"}, Answer.OUTSIDE_WINDOW),
        ({"error": -232, "message": "User has not interacted"}, Answer.OUTSIDE_WINDOW),
        ({"error": -211, "message": "Out of quota"}, Answer.OA_QUOTA),
        ({"error": -224, "message": "The OA needs to upgrade OA Tier Package"}, Answer.OA_QUOTA),
        ({"error": -218, "message": "Out of quota receive"}, Answer.FOLLOWER_QUOTA),
        ({"error": -234, "message": "This message cannot be sent at night"}, Answer.NIGHT),
        ({"error": -32, "message": "Your OA reached limit call api"}, Answer.RATE),
        ({"error": -213, "message": "User has not followed OA"}, Answer.GONE),
        ({"error": -201, "message": "header.content is invalid"}, Answer.FAILED),
        ({"error": "-230"}, Answer.FAILED),  # not the documented number: nothing is guessed
        (["not", "an", "object"], Answer.FAILED),
    ],
)
def test_each_answer_has_one_meaning(body: object, meaning: Answer) -> None:
    assert read_answer(body, "raw").meaning is meaning


def test_known_cold_by_the_last_interaction_we_saw_or_a_minus_230_since() -> None:
    recent = NOW - 86400 * 1000
    assert not known_cold({"zalo_event_ms": recent}, NOW)
    assert known_cold({"zalo_event_ms": NOW - WINDOW_MS - 1}, NOW)
    assert not known_cold({}, NOW)  # nothing seen (made by hand): tư vấn is tried, a -230 tells
    assert known_cold({COLD_MARK: recent}, NOW)
    # A chat message newer than the follow opens the window again.
    assert not known_cold({"zalo_event_ms": NOW - WINDOW_MS - 1, "zalo_interaction_ms": recent}, NOW)
    # A -230 after the last interaction we saw: outside, whatever the 7 days say...
    assert known_cold({"zalo_event_ms": recent, COLD_MARK: recent + 1}, NOW)
    # ... until the follower interacts again.
    assert not known_cold({"zalo_event_ms": recent, COLD_MARK: recent + 1, "zalo_interaction_ms": recent + 2}, NOW)
