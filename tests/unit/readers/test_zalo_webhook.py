"""The Zalo OA webhook's signature and event parsing (pure functions, no database)."""

from __future__ import annotations

import hashlib
import json

import pytest

from service.errors import InvalidField
from service.readers.zalo_followers import command_of
from service.readers.zalo_webhook import (
    BadSignature,
    OaEvent,
    check_signed_timestamp,
    event_key,
    header_mac,
    parse,
    read_event,
    signature_of,
    signed_timestamp,
    verify,
)

APP_ID = "360846524940903967"
SECRET = "oa-secret-key-for-tests"
# Shapes of Zalo's documented examples.
FOLLOW = {
    "oa_id": "579745863508352884",
    "follower": {"id": "6092148954098787848"},
    "user_id_by_app": "552177279717587730",
    "event_name": "follow",
    "source": "oa_profile",
    "app_id": APP_ID,
    "timestamp": "1623139845046",
}
TEXT = {
    "app_id": APP_ID,
    "user_id_by_app": "552177279717587730",
    "event_name": "user_send_text",
    "timestamp": "1623139845999",
    "sender": {"id": "6092148954098787848"},
    "recipient": {"id": "579745863508352884"},
    "message": {"text": "Hủy", "msg_id": "96d3cdf3af150460909"},
}


def test_the_signature_is_sha256_of_app_id_body_timestamp_and_oa_secret_key() -> None:
    body = json.dumps(FOLLOW).encode()
    expected = hashlib.sha256(f"{APP_ID}{body.decode()}1623139845046{SECRET}".encode()).hexdigest()
    assert signature_of(APP_ID, body, "1623139845046", SECRET) == expected
    # The header as Zalo sends it ("mac=" prefix), any case, and without the prefix.
    for header in (f"mac={expected}", f"mac={expected.upper()}", expected, f"  mac = {expected} "):
        assert verify(header_mac(header), APP_ID, body, SECRET) == "1623139845046"


@pytest.mark.parametrize(
    ("header", "why"),
    [(None, "missing"), ("", "missing"), ("mac=xyz", "malformed"), ("sha256=" + "0" * 64, "malformed")],
)
def test_a_missing_or_malformed_header_is_refused(header: str | None, why: str) -> None:
    with pytest.raises(BadSignature, match=why):
        header_mac(header)


def test_a_signature_over_other_bytes_or_another_key_is_wrong() -> None:
    body = json.dumps(FOLLOW).encode()
    good = signature_of(APP_ID, body, "1623139845046", SECRET)
    with pytest.raises(BadSignature, match="wrong"):
        verify(good, APP_ID, body + b" ", SECRET)
    with pytest.raises(BadSignature, match="wrong"):
        verify(good, APP_ID, body, "another-secret")
    with pytest.raises(BadSignature, match="wrong"):
        verify(good, "1", body, SECRET)
    with pytest.raises(BadSignature, match="wrong"):
        verify(good, APP_ID, body.replace(b"1623139845046", b"1623139845047"), SECRET)


def test_the_signature_is_checked_on_the_raw_bytes_before_they_are_parsed() -> None:
    # Bytes no parser would take (invalid UTF-8, nesting no recursion survives) are refused by
    # the signature alone, unsigned; signed, they reach the parser, which names them.
    for body in (b"[" * 100_000, b'{"timestamp": "1", "x": "\xff\xfe"}', b"\xff" * 10):
        with pytest.raises(BadSignature, match="wrong"):
            verify("0" * 64, APP_ID, body, SECRET)
        signed = signature_of(APP_ID, body, "1" if b"timestamp" in body else "", SECRET)
        verify(signed, APP_ID, body, SECRET)
        with pytest.raises(InvalidField) as caught:
            parse(body)
        assert caught.value.field == "body"


def test_a_nested_timestamp_cannot_stand_in_for_the_events_own() -> None:
    # Zalo signs with the event's own timestamp; one found deeper in the bytes is only a candidate.
    document = {**FOLLOW, "message": {"timestamp": "42"}}
    body = json.dumps(document).encode()
    signed_nested = signature_of(APP_ID, body, "42", SECRET)
    assert verify(signed_nested, APP_ID, body, SECRET) == "42"
    with pytest.raises(BadSignature, match="wrong"):
        check_signed_timestamp(parse(body), "42")
    check_signed_timestamp(parse(body), "1623139845046")


def test_many_timestamps_in_a_forged_body_are_not_all_tried() -> None:
    stamps = [str(n) for n in range(1, 200)]
    body = json.dumps({"a": [{"timestamp": stamp} for stamp in stamps]}).encode()
    late = signature_of(APP_ID, body, stamps[-1], SECRET)
    with pytest.raises(BadSignature):
        verify(late, APP_ID, body, SECRET)
    assert verify(signature_of(APP_ID, body, stamps[0], SECRET), APP_ID, body, SECRET) == stamps[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "is empty"),
        (b"{not json", "is not valid JSON: Expecting property name enclosed in double quotes at character 1"),
        (b"\xff\xfe", "is not valid JSON: not UTF-8 text (byte 0)"),
        (b"[" * 70 + b"]" * 70, "is not valid JSON: arrays or objects nested more than 64 deep"),
        (b"[" * 100_000, "is not valid JSON: arrays or objects nested more than 64 deep"),
        (b"[1, 2]", "must be a JSON object, not list"),
        (b'"follow"', "must be a JSON object, not str"),
    ],
)
def test_a_body_that_is_not_a_json_object_names_why(body: bytes, message: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse(body)
    assert caught.value.field == "body" and caught.value.message.startswith(message)


def test_the_timestamp_is_signed_as_written() -> None:
    assert signed_timestamp({"timestamp": "1623139845046"}) == "1623139845046"
    assert signed_timestamp({"timestamp": 1623139845046}) == "1623139845046"
    for bad in ({}, {"timestamp": None}, {"timestamp": True}, {"timestamp": "12a"}, {"timestamp": -1}):
        with pytest.raises(InvalidField) as caught:
            signed_timestamp(bad)
        assert caught.value.field == "timestamp"


def test_follow_unfollow_and_text_events_are_read() -> None:
    assert read_event(FOLLOW) == OaEvent("follow", 1623139845046, "6092148954098787848", "552177279717587730")
    unfollow = read_event({**FOLLOW, "event_name": "unfollow", "follower": {"id": 6092148954098787848}})
    assert unfollow.name == "unfollow" and unfollow.user_id == "6092148954098787848"
    text = read_event(TEXT)
    assert (text.user_id, text.text, text.msg_id) == ("6092148954098787848", "Hủy", "96d3cdf3af150460909")
    # NFC: a decomposed "Hủy" (u + combining hook above) is stored composed.
    decomposed = read_event({**TEXT, "message": {"text": "Hu\u0309y"}})
    assert decomposed.text == "Hủy"
    # Kinds we do not act on come back with their name only.
    assert read_event({"event_name": "user_send_sticker", "timestamp": "5"}) == OaEvent("user_send_sticker", 5)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"timestamp": "1"}, "event_name"),
        ({"event_name": 7, "timestamp": "1"}, "event_name"),
        ({"event_name": "follow", "timestamp": "1"}, "follower.id"),
        ({"event_name": "follow", "timestamp": "1", "follower": {"id": "abc"}}, "follower.id"),
        ({"event_name": "follow", "timestamp": "1", "follower": "6092"}, "follower.id"),
        ({**FOLLOW, "user_id_by_app": "x"}, "user_id_by_app"),
        ({**TEXT, "sender": {}}, "sender.id"),
        ({**TEXT, "message": {"msg_id": "m"}}, "message.text"),
        ({**TEXT, "message": {"text": "hi", "msg_id": 5}}, "message.msg_id"),
        ({**TEXT, "timestamp": "soon"}, "timestamp"),
    ],
)
def test_an_event_we_handle_without_its_fields_names_the_field(document: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        read_event(document)
    assert caught.value.field == field


def test_the_event_key_names_no_follower_and_tells_events_apart() -> None:
    follow = read_event(FOLLOW)
    key = event_key(follow, "k" * 32)
    assert len(key) == 64 and str(follow.user_id) not in key
    assert event_key(follow, "k" * 32) == key
    assert event_key(read_event({**FOLLOW, "event_name": "unfollow"}), "k" * 32) != key
    assert event_key(read_event({**FOLLOW, "timestamp": "1623139845047"}), "k" * 32) != key
    # A message is known by its msg_id, whatever else a redelivery carries.
    text = read_event(TEXT)
    assert event_key(text, "k" * 32) == event_key(read_event({**TEXT, "timestamp": "1623139846000"}), "k" * 32)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("hủy", "stop"),
        ("Hủy", "stop"),
        ("HUỶ", "stop"),  # the old-style tone placement
        ("Hu\u0309y", "stop"),  # decomposed
        ("huy", "stop"),
        ("  huy!  ", "stop"),
        ("Hủy đăng ký", "stop"),
        ("HỦY ĐĂNG KÝ.", "stop"),
        ("STOP", "stop"),
        ("Đăng ký", "start"),
        ("dang ky", "start"),
        ("start", "start"),
        ("hủy bỏ đơn hàng", None),
        ("chào", None),
        ("", None),
    ],
)
def test_stop_and_start_words_ignore_case_and_marks(text: str, command: str | None) -> None:
    assert command_of(text) == command
