"""The console words a refusal by its code, never by reading the domain's English (decision 0032):
refusals the old message patterns missed are now in the staff's language, and rewording an
English sentence changes nothing a person reads."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.db.models import Article
from service.errors import ENGLISH
from tests.unit.console.test_articles_pages import GOOD, count, post
from tests.unit.console.test_subscribers_pages import add, subscription_count


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert found, html
    return found.group(1)


@pytest.mark.parametrize(
    ("fields", "field", "vietnamese", "english"),
    [
        # English before: no pattern matched these sentences.
        ({"image_url": "https://b.vn/a b.jpg"}, "image_url", "Không được chứa khoảng trắng, ký tự", "must not"),
        ({"body_html": "<script>x</script>"}, "body_html", "Không có nội dung hiển thị được", "has no visible"),
        ({"categories": "Thời sự, !!!"}, "categories", "“!!!” không có chữ hay số nào", "entry 1"),
        ({"title": "Đ" * 301}, "title", "Dài 301 ký tự; tối đa 300 ký tự.", "characters long"),
    ],
)
def test_article_refusals_are_worded_by_code(
    editor: tuple[TestClient, str], fields: dict[str, str], field: str, vietnamese: str, english: str
) -> None:
    client, token = editor
    response = post(client, "/console/articles/new", token, **{**GOOD, "action": "publish", **fields})
    assert response.status_code == 422  # type: ignore[attr-defined]
    shown = field_error(response.text, field)  # type: ignore[attr-defined]
    assert vietnamese in shown and english not in shown
    english_page = post(client, "/console/articles/new?lang=en", token, **{**GOOD, "action": "publish", **fields})
    assert field_error(english_page.text, field) != shown  # type: ignore[attr-defined]
    assert count(Article) == 0


@pytest.mark.parametrize(
    ("target", "vietnamese"),
    [
        ("https://93.184.215.14/a%zz", "Chứa mã %XX không hợp lệ."),  # English before
        ("https://93.184.215.14/a%00", "Chứa mã %XX không hợp lệ."),
        ("https://93.184.215.14/" + "a" * 2100, "Dài quá 2000 ký tự."),
    ],
)
def test_egress_refusals_are_worded_by_code(admin: tuple[TestClient, str], target: str, vietnamese: str) -> None:
    client, token = admin
    response = add(client, token, "webhook", target)
    assert response.status_code == 422
    assert field_error(response.text, "target") == vietnamese
    assert subscription_count() == 0


def test_rewording_the_english_changes_nothing_staff_read(
    admin: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, token = admin
    monkeypatch.setitem(ENGLISH, "credentials", "carries credentials (reworded)")
    monkeypatch.setitem(ENGLISH, "not_chat_id", "is not a chat (reworded)")
    hook = add(client, token, "webhook", "https://user:pw@93.184.215.14/hook")
    assert field_error(hook.text, "target") == "Không được chứa tên đăng nhập hay mật khẩu."
    chat = add(client, token, "telegram", "not a chat")
    assert field_error(chat.text, "target").startswith("Phải là mã cuộc trò chuyện Telegram")
    assert subscription_count() == 0
