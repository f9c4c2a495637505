"""The Web Push channel's parts (decision 0041): encryption a browser can undo, VAPID a push
service accepts, Topic and payload shapes, the keys a browser gives, the "gone" answers."""

from __future__ import annotations

import base64
import json
import time

import pytest
from multidict import CIMultiDict
from pydantic import ValidationError

from config.settings import Settings
from service.announcements.message import Message
from service.channels.http import HttpAnswer
from service.channels.messages import Ending
from service.channels.web_push import (
    MAX_PAYLOAD,
    Vapid,
    check_keys,
    encrypt,
    new_vapid_keys,
    notification_payload,
    public_key_of,
    topic_for,
    web_push_gone,
)
from service.errors import InvalidField
from tests.integration.push_service import Browser, check_vapid

PRIVATE, PUBLIC = new_vapid_keys()


def settings(**changes: object) -> Settings:
    values: dict[str, object] = {
        "secret_key": "unit-test-secret-key-0123456789-abcdef",
        "base_url": "https://tin.example.vn",
        "web_push_vapid_private_key": PRIVATE,
        "web_push_vapid_public_key": PUBLIC,
        "web_push_subject": "mailto:toasoan@example.vn",
        **changes,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_a_payload_decrypts_with_the_browsers_private_key_only() -> None:
    browser = Browser("https://push.example/p/1")
    keys = browser.subscription_json()["keys"]
    body = encrypt(b'{"title":"Tin"}', keys["p256dh"], keys["auth"])
    assert browser.decrypt(body) == b'{"title":"Tin"}'
    # A fresh sender key and salt per message (RFC 8291 §3.1): the same words, other bytes.
    assert encrypt(b'{"title":"Tin"}', keys["p256dh"], keys["auth"]) != body
    other = Browser("https://push.example/p/2")
    with pytest.raises(Exception):  # noqa: B017 - any failure: the other browser cannot read it
        other.decrypt(body)


def test_the_vapid_header_verifies_for_the_endpoints_origin_and_is_reused() -> None:
    vapid = Vapid.from_settings(settings())
    now = time.time()
    header = vapid.authorization("https://fcm.googleapis.com/fcm/send/abc", now)
    assert check_vapid(header, "https://fcm.googleapis.com", now) is None
    assert check_vapid(header, "https://updates.push.services.mozilla.com", now) is not None
    assert f"k={PUBLIC}" in header
    assert vapid.authorization("https://fcm.googleapis.com/fcm/send/other", now + 60) == header
    # An hour before it expires (12 h), a new token is signed.
    assert vapid.authorization("https://fcm.googleapis.com/fcm/send/abc", now + 11.5 * 3600) != header


def test_vapid_needs_a_key_and_a_subject() -> None:
    with pytest.raises(ValueError, match="not set"):
        Vapid.from_settings(settings(web_push_vapid_private_key="", web_push_vapid_public_key=""))


def test_settings_refuse_a_public_key_of_another_pair_or_a_missing_subject() -> None:
    assert public_key_of(PRIVATE) == PUBLIC
    _, other_public = new_vapid_keys()
    with pytest.raises(ValidationError, match="not the public key"):
        settings(web_push_vapid_public_key=other_public)
    with pytest.raises(ValidationError, match="BANTIN_WEB_PUSH_SUBJECT"):
        settings(web_push_subject="")
    with pytest.raises(ValidationError):
        settings(web_push_subject="webmaster@example.vn")  # neither mailto: nor https://


def test_topic_is_32_base64url_characters_and_names_the_article() -> None:
    first = topic_for(Message(data={}, url="https://tin.example.vn/articles/7/a"), "x")
    again = topic_for(Message(data={}, url="https://tin.example.vn/articles/7/a"), "y")
    other = topic_for(Message(data={}, url="https://tin.example.vn/articles/8/b"), "x")
    assert len(first) == 32 and first == again != other
    assert base64.urlsafe_b64decode(first) and set(first) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert topic_for(Message(data={}), "article.withdrawn:5") != topic_for(Message(data={}), "article.withdrawn:6")


def test_the_payload_is_title_body_url_icon_tag_and_fits() -> None:
    url = "https://tin.example.vn/articles/7/a"
    message = Message(data={}, subject="Bài mới: Cầu mới", text=f"Bài mới: Cầu mới\nTóm tắt\n{url}", url=url)
    document = json.loads(notification_payload(message, settings(), "tag1"))
    assert document == {
        "title": "Bài mới: Cầu mới",
        "body": "Tóm tắt",
        "url": url,
        "icon": "https://tin.example.vn/favicon.ico",
        "tag": "tag1",
    }
    long = Message(
        data={}, subject="T" * 5000, text="T\n" + "x" * 5000, url=url, image_url="https://i.example/" + "a" * 4000
    )
    cut = notification_payload(long, settings(), "t")
    assert len(cut) <= MAX_PAYLOAD
    assert json.loads(cut)["body"] == "" and json.loads(cut)["icon"] == "https://tin.example.vn/favicon.ico"
    assert json.loads(cut)["url"] == url


def test_keys_a_browser_gives_are_checked() -> None:
    browser = Browser("https://push.example/p/1")
    keys = browser.subscription_json()["keys"]
    assert check_keys(keys["p256dh"], keys["auth"]) == (keys["p256dh"], keys["auth"])
    with pytest.raises(InvalidField) as refused:
        check_keys("BAAA" + keys["p256dh"][4:], keys["auth"])
    assert refused.value.field == "p256dh" and refused.value.code == "invalid_push_key"
    with pytest.raises(InvalidField) as refused:
        check_keys(keys["p256dh"], "c2hvcnQ")
    assert refused.value.field == "auth"
    with pytest.raises(InvalidField):
        check_keys("not base64 !!", keys["auth"])


@pytest.mark.parametrize(("status", "ending"), [(404, Ending.ENDED), (410, Ending.ENDED), (429, None), (500, None),
                                                (413, None)])  # fmt: skip
def test_404_and_410_end_the_subscription_and_nothing_else_does(status: int, ending: Ending | None) -> None:
    assert web_push_gone(HttpAnswer(status, CIMultiDict(), b"")) is ending
