"""Hashed confirmation tokens and HMAC-signed links: purpose, subject and expiry are all bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import links

SECRET = "a-secret-of-thirty-two-characters-at-least"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_a_confirmation_token_is_derived_from_its_salt_and_stored_only_as_a_hash() -> None:
    salt = links.new_salt()
    token = links.token_from_salt(SECRET, salt)
    assert links.TOKEN.match(token)
    assert links.token_from_salt(SECRET, salt) == token  # the worker re-renders the same link on a retry
    assert links.token_from_salt("another-secret-of-thirty-two-chars!!", salt) != token
    assert links.token_from_salt(SECRET, links.new_salt()) != token
    assert links.token_hash(token) != token and len(links.token_hash(token)) == 64


def test_a_signed_link_opens_only_for_its_purpose_subject_and_time() -> None:
    signed = links.sign(SECRET, "preferences", "42", NOW + timedelta(days=1))
    assert links.verify(SECRET, "preferences", "42", signed, NOW) == "ok"
    assert links.verify(SECRET, "preferences", "43", signed, NOW) == "invalid"
    assert links.verify(SECRET, "csrf", "42", signed, NOW) == "invalid"
    assert links.verify("x" * 40, "preferences", "42", signed, NOW) == "invalid"
    assert links.verify(SECRET, "preferences", "42", signed, NOW + timedelta(days=1)) == "expired"


def test_a_tampered_expiry_or_a_malformed_value_is_invalid() -> None:
    signed = links.sign(SECRET, "preferences", "42", NOW + timedelta(hours=1))
    expiry, signature = signed.split(".")
    later = f"{int(expiry) + 86400}.{signature}"
    assert links.verify(SECRET, "preferences", "42", later, NOW) == "invalid"
    for bad in ("", "abc", f"{expiry}.", f"{expiry}.{signature}x", "1.\x00" + signature[2:], "-1." + signature):
        assert links.verify(SECRET, "preferences", "42", bad, NOW) == "invalid"
