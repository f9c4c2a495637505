"""Web Push (RFC 8030): a browser's push subscription, written to through its push service.

The subscription's ``target`` is the push service's endpoint (https, through the egress
guard); ``options["p256dh"]`` the browser's P-256 public key and the subscription's
secret its 16-byte ``auth`` secret (both base64url, as ``PushSubscription.toJSON()``
gives them). Each message is:

- a JSON payload (``notification_payload``: title, body, url, icon, tag) encrypted for that
  browser alone with ``aes128gcm`` (RFC 8291; the ``http_ece`` library, a fresh sender key
  and salt per message);
- signed with VAPID (RFC 8292; the ``py_vapid`` library): ``Authorization: vapid t=<JWT>,
  k=<public key>``, the JWT's ``aud`` the endpoint's origin, ``exp`` 12 hours ahead, one
  token per origin and batch;
- POSTed through our guarded aiohttp client (``post_guarded``), never pywebpush's
  ``requests`` sender, so keep-alive, the egress guard, timeouts and the delivery log hold
  as for every other HTTP channel (decision 0041);
- with ``TTL`` (RFC 8030 §5.2), ``Urgency`` (§5.3) and ``Topic`` (§5.4): a newer message
  about the same article replaces one still waiting at the push service, and the
  notification's ``tag`` replaces one already shown.

404 and 410 from a push service mean the subscription expired or was revoked (RFC 8030
§7.3, §8.3 of the Web Push protocol's operational notes): the subscription ends
(``web_push_gone``, decision 0039). 429 honours ``Retry-After``; 5xx is retried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, b64urlencode

from config.settings import Settings
from service.announcements.message import Medium, Message
from service.channels.base import SendContext, UrlChannel
from service.channels.egress import EgressPolicy
from service.channels.http import HttpAnswer
from service.channels.messages import Ending, OutboundMessage, SendResult
from service.channels.results import post_guarded
from service.errors import InvalidField

# RFC 8291 §4: the push message is at most 4,096 octets; aes128gcm adds 86 (header with a
# 65-octet key id) + 16 (tag) + 1 (delimiter) to the plaintext, so 3,993 is the most a
# payload may be. Ours are cut well under it: a notification shows a few lines anyway.
MAX_PAYLOAD = 3000
MAX_TITLE = 200
MAX_BODY = 600
# How long a VAPID token is valid (RFC 8292 §2: "MUST NOT be more than 24 hours").
TOKEN_SECONDS = 12 * 3600
# Topic: at most 32 characters of the base64url alphabet (RFC 8030 §5.4).
TOPIC_LENGTH = 32
# A P-256 public key as browsers and VAPID's ``k=`` carry it: the uncompressed point (X9.62).
_POINT = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def b64url_decode(value: str) -> bytes:
    """base64url without padding (as browsers give keys) to bytes; ValueError when it is not."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def check_keys(p256dh: str, auth: str) -> tuple[str, str]:
    """The browser's keys, checked: ``p256dh`` a P-256 uncompressed point (65 octets),
    ``auth`` 16 octets (RFC 8291 §3.2); InvalidField naming the bad one."""
    try:
        point = b64url_decode(p256dh.strip())
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError("not uncompressed")
    except ValueError:
        raise InvalidField("p256dh", "invalid_push_key") from None
    try:
        secret = b64url_decode(auth.strip())
    except ValueError:
        raise InvalidField("auth", "invalid_push_key") from None
    if len(secret) != 16:
        raise InvalidField("auth", "invalid_push_key")
    return p256dh.strip(), auth.strip()


def new_vapid_keys() -> tuple[str, str]:
    """A fresh VAPID pair: (private: base64url raw scalar, public: base64url uncompressed point)."""
    vapid = Vapid02()
    vapid.generate_keys()
    number = vapid.private_key.private_numbers().private_value
    private = str(b64urlencode(number.to_bytes(32, "big")))
    public = str(b64urlencode(vapid.public_key.public_bytes(*_POINT)))
    return private, public


def public_key_of(private: str) -> str:
    """The base64url public key of a base64url private scalar; ValueError when it is not one."""
    try:
        signer = Vapid02.from_raw(private.strip().encode())
    except (ValueError, binascii.Error):
        raise ValueError("not a base64url P-256 private key") from None
    return str(b64urlencode(signer.public_key.public_bytes(*_POINT)))


def encrypt(payload: bytes, p256dh: str, auth: str) -> bytes:
    """``payload`` encrypted for one browser (RFC 8291, aes128gcm, one record): a fresh
    sender key pair and salt per call, as §3.1 requires."""
    sender = ec.generate_private_key(ec.SECP256R1())
    return bytes(
        http_ece.encrypt(
            payload,
            private_key=sender,
            dh=b64url_decode(p256dh),
            auth_secret=b64url_decode(auth),
            version="aes128gcm",
        )
    )


def topic_for(message: Message, fallback: str) -> str:
    """32 base64url characters naming what the message is about (its link, else ``fallback``):
    the same article gives the same Topic and tag, so a newer message replaces the older."""
    key = message.url or fallback
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()[:24]).decode()


def notification_payload(message: Message, settings: Settings, tag: str) -> bytes:
    """What the service worker (``static/sw.js``) shows: title, body (the text without its
    subject and link lines), url to open on click, icon, tag; UTF-8 JSON under MAX_PAYLOAD."""
    lines = [line for line in message.text.split("\n")[1:] if line and line != message.url]
    body = "\n".join(lines)[:MAX_BODY]
    document = {
        "title": (message.subject or settings.site_title)[:MAX_TITLE],
        "body": body,
        "url": message.url or settings.base_url,
        "icon": message.image_url or settings.base_url.rstrip("/") + "/favicon.ico",
        "tag": tag,
    }
    favicon = settings.base_url.rstrip("/") + "/favicon.ico"
    # Over the budget: the body goes first, then a long image address gives way to the site's icon.
    for cut in ({}, {"body": ""}, {"body": "", "icon": favicon}):
        encoded = json.dumps({**document, **cut}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(encoded) <= MAX_PAYLOAD:
            break
    return encoded


@dataclass(frozen=True)
class Vapid:
    """The desk's VAPID key, loaded once per batch, and the tokens it signed, by audience."""

    signer: Vapid02
    subject: str
    tokens: dict[str, tuple[str, float]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Vapid:
        """The key of BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY; ValueError when unset or not a key."""
        raw = settings.web_push_vapid_private_key.get_secret_value().strip()
        if not raw or not settings.web_push_subject:
            raise ValueError("BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY or BANTIN_WEB_PUSH_SUBJECT is not set")
        try:
            signer = Vapid02.from_raw(raw.encode())
        except (ValueError, binascii.Error):
            raise ValueError("BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY is not a base64url P-256 private key") from None
        return cls(signer, settings.web_push_subject, {})

    def authorization(self, endpoint: str, now: float) -> str:
        """``vapid t=<JWT>,k=<key>`` for the endpoint's origin, reused until an hour before it expires."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        cached = self.tokens.get(audience)
        if cached is not None and cached[1] - 3600 > now:
            return cached[0]
        expires = int(now) + TOKEN_SECONDS
        header = str(self.signer.sign({"aud": audience, "exp": expires, "sub": self.subject})["Authorization"])
        self.tokens[audience] = (header, expires)
        return header


def web_push_gone(response: HttpAnswer) -> Ending | None:
    """404 Not Found or 410 Gone: the push subscription expired or was unsubscribed (RFC 8030
    §7.3 for 410; push services answer 404 for an endpoint they no longer know)."""
    return Ending.ENDED if response.status_code in (404, 410) else None


class WebPushChannel(UrlChannel):
    name = "web_push"
    medium = Medium.TEXT
    gone = staticmethod(web_push_gone)

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        """The endpoint (https, or an allow-listed http address: the egress guard); InvalidField
        otherwise. Browsers subscribe through ``service.readers.web_push``, which checks the
        keys (``check_keys``) too; staff do not add web push subscriptions."""
        return super().validate_target(target, options, policy)

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """Encrypt for this browser, sign for its push service's origin, POST through the guard."""
        vapid = context.resources.get("web_push.vapid")
        if vapid is None:
            try:
                vapid = context.resources["web_push.vapid"] = Vapid.from_settings(context.settings)
            except ValueError as exc:
                return SendResult.failure(str(exc))
        p256dh = str(outbound.options.get("p256dh") or "")
        if not p256dh or not outbound.secrets:
            return SendResult.failure("the push subscription has no keys")
        message = outbound.message
        topic = topic_for(message, f"{outbound.event_type}:{outbound.announcement_id}")
        try:
            body = encrypt(notification_payload(message, context.settings, topic), p256dh, outbound.secrets[0])
        except ValueError as exc:
            return SendResult.failure(f"cannot encrypt for this subscription: {exc}")
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(context.settings.web_push_ttl_seconds),
            "Urgency": context.settings.web_push_urgency,
            "Topic": topic,
            "Authorization": vapid.authorization(outbound.target, time.time()),
        }
        return await post_guarded(context, outbound.target, content=body, headers=headers, read_gone=web_push_gone)
