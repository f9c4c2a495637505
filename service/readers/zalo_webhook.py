"""What arrives at ``POST /zalo/webhook``: the signature check and the event, parsed.

Zalo's Official Account webhook (developers.zalo.me, "Webhook" of the OA API) posts one
JSON event per request and signs it in the ``X-ZEvent-Signature`` header:
``mac=`` + hex SHA-256 of ``app_id + body + timestamp + OA secret key``, where the body is
the raw request body, the timestamp is the event's own ``timestamp`` field, and the key is
the OA's secret key (not the app's). The signature is checked on the raw bytes before
anything parses them (:func:`verify`): the timestamp is read from the bytes, and the
parsed event must carry the one that was signed (:func:`check_signed_timestamp`). Events
this module reads:

- ``follow`` / ``unfollow``: ``follower.id`` (the user's id for this OA, the one the
  message API's ``recipient.user_id`` takes), ``user_id_by_app``, ``oa_id``, ``timestamp``;
- ``user_send_text``: ``sender.id``, ``recipient.id`` (the OA), ``message.text``,
  ``message.msg_id``, ``timestamp``.

Pure functions: no database, no settings object (the shell passes the two values).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.errors import InvalidField
from service.json_input import JsonRefused, parse_json
from service.text import clean_line

SIGNATURE_HEADER = "X-ZEvent-Signature"
# The header's value: "mac=" and 64 hex digits (the prefix is optional in what we accept).
_MAC = re.compile(r"^\s*(?:mac\s*=\s*)?([0-9a-fA-F]{64})\s*$")
# Zalo's ids are decimal numbers sent as strings; the message API accepts up to 32 digits.
_USER_ID = re.compile(r"^\d{1,32}$")
_TIMESTAMP = re.compile(r"^\d{1,16}$")
# A "timestamp" member in the raw body, its digits quoted or not. Only candidates: the MAC
# decides which (if any) was signed, and the parsed event must carry that one at its top.
_RAW_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,16})"?')
# Candidates tried at most: Zalo's events carry one; a forged body with thousands costs no more.
MAX_TIMESTAMP_CANDIDATES = 8
FOLLOW = "follow"
UNFOLLOW = "unfollow"
SEND_TEXT = "user_send_text"
HANDLED = frozenset({FOLLOW, UNFOLLOW, SEND_TEXT})
# A chat message longer than this is not a command; it is only cut for the stop-word check.
MAX_TEXT = 2000


class BadSignature(Exception):
    """The request is not signed by Zalo for our OA (header missing, malformed or wrong)."""


@dataclass(frozen=True)
class OaEvent:
    """One webhook event, as far as subscriptions care.

    ``user_id`` is the OA-scoped id of the follower or sender (None for events we do not
    handle); ``timestamp_ms`` is Zalo's time of the event, milliseconds since the epoch.
    """

    name: str
    timestamp_ms: int
    user_id: str | None = None
    user_id_by_app: str | None = None
    text: str | None = None
    msg_id: str | None = None


def signature_of(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Hex SHA-256 of ``app_id + body + timestamp + oa_secret_key`` (Zalo's documented ``mac``)."""
    return hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()).hexdigest()


def header_mac(header: str | None) -> str:
    """The 64 hex digits of an ``X-ZEvent-Signature`` header, lower case; BadSignature if absent or malformed."""
    found = _MAC.match(header or "")
    if found is None:
        raise BadSignature("missing" if not header else "malformed")
    return found.group(1).lower()


def verify(mac: str, app_id: str, body: bytes, oa_secret_key: str) -> str:
    """The timestamp ``mac`` signs the raw ``body`` with, checked before anything parses the body.

    Each ``"timestamp"`` in the bytes (the first MAX_TIMESTAMP_CANDIDATES), or ``""`` when there
    is none, is tried in constant time; raises BadSignature when none gives ``mac``. The body
    is hashed once: each candidate costs a copy of the hash state.
    """
    prefix = hashlib.sha256(app_id.encode() + body)
    candidates = list(dict.fromkeys(match.group(1).decode() for match in _RAW_TIMESTAMP.finditer(body)))
    matched = None
    for timestamp in candidates[:MAX_TIMESTAMP_CANDIDATES] or [""]:
        digest = prefix.copy()
        digest.update(timestamp.encode() + oa_secret_key.encode())
        if hmac.compare_digest(mac, digest.hexdigest()):
            matched = timestamp
    if matched is None:
        raise BadSignature("wrong")
    return matched


def check_signed_timestamp(document: Mapping[str, Any], signed: str) -> None:
    """The event's own ``timestamp`` must be the one its signature was made with: BadSignature
    when it is another (a nested "timestamp" was signed); InvalidField when it has none."""
    if signed_timestamp(document) != signed:
        raise BadSignature("wrong")


def parse(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (``service.json_input``: UTF-8, bounded nesting); else InvalidField("body", why)."""
    if not body.strip():
        raise InvalidField("body", "zalo_empty")
    try:
        document = parse_json(body)
    except JsonRefused as exc:
        raise InvalidField("body", "invalid_json", reason=exc.msg) from None
    if not isinstance(document, dict):
        raise InvalidField("body", "not_object", kind=type(document).__name__)
    return document


def signed_timestamp(document: Mapping[str, Any]) -> str:
    """The ``timestamp`` field as the text that was signed; InvalidField when missing or not digits."""
    value = document.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidField("timestamp", "timestamp_required")
    text = str(value)
    if not _TIMESTAMP.match(text):
        raise InvalidField("timestamp", "timestamp_digits")
    return text


def _user(document: Mapping[str, Any], holder: str) -> str:
    value = document.get(holder)
    found = value.get("id") if isinstance(value, Mapping) else None
    if isinstance(found, int) and not isinstance(found, bool):
        found = str(found)
    if not isinstance(found, str) or not _USER_ID.match(found):
        raise InvalidField(f"{holder}.id", "zalo_user_required")
    return found


def _optional_id(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _USER_ID.match(value):
        raise InvalidField(name, "numeric_id")
    return value


def read_event(document: Mapping[str, Any]) -> OaEvent:
    """The event in ``document`` (already signature-checked); InvalidField names a field that
    an event we handle needs and lacks. Events we do not handle come back with only name and time."""
    name = document.get("event_name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise InvalidField("event_name", "event_name_required")
    timestamp = int(signed_timestamp(document))
    if name not in HANDLED:
        return OaEvent(name=name, timestamp_ms=timestamp)
    by_app = _optional_id(document, "user_id_by_app")
    if name in (FOLLOW, UNFOLLOW):
        return OaEvent(name, timestamp, _user(document, "follower"), by_app)
    message = document.get("message")
    if not isinstance(message, Mapping) or not isinstance(message.get("text"), str):
        raise InvalidField("message.text", "text_required")
    msg_id = message.get("msg_id")
    if msg_id is not None and (not isinstance(msg_id, str) or not 0 < len(msg_id) <= 128):
        raise InvalidField("message.msg_id", "msg_id")
    return OaEvent(name, timestamp, _user(document, "sender"), by_app, clean_line(message["text"][:MAX_TEXT]), msg_id)


def event_key(event: OaEvent, secret_key: str) -> str:
    """The event's handled-once key: HMAC-SHA256 (``secret_key``) of its name and message id, or
    of its name, user and timestamp; 64 hex digits that name no follower."""
    if event.msg_id:
        identity = f"{event.name}\x00msg\x00{event.msg_id}"
    else:
        identity = f"{event.name}\x00{event.user_id or ''}\x00{event.timestamp_ms}"
    return hmac.new(secret_key.encode(), identity.encode(), hashlib.sha256).hexdigest()
