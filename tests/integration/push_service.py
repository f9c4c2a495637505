"""A local push service (RFC 8030) and the browsers subscribed to it, as the RFCs specify them.

- ``Browser``: what a browser holds for one push subscription (RFC 8291 §3.2): its own
  P-256 key pair and 16-byte ``auth`` secret (made with ``cryptography``), and the endpoint
  the push service gave it; ``subscription_json()`` is ``PushSubscription.toJSON()``.
- ``POST /push/{id}`` (the endpoint): checks what RFC 8292 and RFC 8030 ask of a sender
  and refuses as a push service does otherwise (401/400): ``Authorization: vapid t=<JWT>,
  k=<key>`` whose ES256 signature verifies with the key in ``k``, ``aud`` the endpoint's
  origin, ``exp`` in the future and within 24 hours, a ``sub``; ``TTL`` present;
  ``Content-Encoding: aes128gcm``; ``Topic`` (when sent) at most 32 base64url characters.
  Then it DECRYPTS the body with the browser's private key (``http_ece.decrypt``) and keeps
  the plaintext with the headers: 201 Created. ``answers`` scripts other statuses per
  endpoint (404, 410, 429 with Retry-After, 5xx), consumed one per push; ``gone`` ends an
  endpoint for good (410).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.integration.local_http import LocalHttpServer
from tests.integration.stack import free_port

TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One browser's push subscription: its key pair and auth secret, and its endpoint."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def p256dh(self) -> str:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def subscription_json(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives (W3C Push API)."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291: the browser's side, with ``http_ece``."""
        return bytes(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def check_vapid(authorization: str, origin: str, now: float) -> str | None:
    """None when the header is a valid RFC 8292 ``vapid`` credential for ``origin``; else why not."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        return "not the vapid scheme"
    parts = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
    if "t" not in parts or "k" not in parts:
        return "t= or k= missing"
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        header_b64, claims_b64, signature_b64 = parts["t"].split(".")
        header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        raw = unb64url(signature_b64)
    except (ValueError, KeyError):
        return "malformed token or key"
    if header.get("alg") != "ES256" or len(raw) != 64:
        return "not ES256"
    # JWS ES256 (RFC 7518 §3.4): r || s, 32 octets each; cryptography wants DER.
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "bad signature"
    if claims.get("aud") != origin:
        return f"aud {claims.get('aud')!r} is not {origin!r}"
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
        return "exp not within 24 hours"
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        return "no sub"
    return None


@dataclass
class Push:
    """One push the service accepted: the decrypted payload and the request's headers."""

    endpoint_id: str
    payload: dict[str, Any]
    headers: dict[str, str]


@dataclass
class PushService(LocalHttpServer):
    server_name: ClassVar[str] = "local push service"
    backlog: ClassVar[int] = 1024

    port: int = field(default_factory=free_port)
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[Push] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    # endpoint id → statuses to answer next, one per push: (status, headers)
    answers: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    # When false, bodies are counted but not decrypted (the benchmark's receiver).
    decrypting: bool = True
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_browser(self) -> Browser:
        """A browser subscribed to this service, with a fresh endpoint."""
        endpoint_id = secrets.token_urlsafe(12)
        browser = Browser(f"{self.origin}/push/{endpoint_id}")
        with self.lock:
            self.browsers[endpoint_id] = browser
        return browser

    def pushes_to(self, browser: Browser) -> list[Push]:
        endpoint_id = browser.endpoint.rsplit("/", 1)[1]
        with self.lock:
            return [p for p in self.received if p.endpoint_id == endpoint_id]

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/push/{id}", self._push)

    async def _push(self, request: web.Request) -> web.Response:
        endpoint_id = request.match_info["id"]
        body = await request.read()
        problem = self._problem(request)
        if problem is not None:
            with self.lock:
                self.refused.append(problem)
            return web.Response(status=401 if "vapid" in problem or "aud" in problem else 400, text=problem)
        with self.lock:
            self.count += 1
            scripted = self.answers.get(endpoint_id)
            answer = scripted.pop(0) if scripted else None
            gone = endpoint_id in self.gone
            browser = self.browsers.get(endpoint_id)
        if gone:
            return web.Response(status=410, text="push subscription has unsubscribed or expired")
        if answer is not None:
            return web.Response(status=answer[0], headers=answer[1], text=f"scripted {answer[0]}")
        if not self.decrypting:
            return web.Response(status=201, headers={"Location": f"{self.origin}/message/{self.count}"})
        if browser is None:
            return web.Response(status=404, text="no such subscription")
        try:
            payload = json.loads(browser.decrypt(body))
        except Exception as exc:  # noqa: BLE001 - any decryption failure is the sender's fault here
            with self.lock:
                self.refused.append(f"cannot decrypt: {exc!r}")
            return web.Response(status=400, text="cannot decrypt")
        with self.lock:
            self.received.append(Push(endpoint_id, payload, dict(request.headers)))
        return web.Response(status=201, headers={"Location": f"{self.origin}/message/{self.count}"})

    def _problem(self, request: web.Request) -> str | None:
        if not self.decrypting:
            return None  # the benchmark's receiver checks nothing: it stands for a push service's speed
        problem = check_vapid(request.headers.get("Authorization", ""), self.origin, time.time())
        if problem is not None:
            return f"vapid: {problem}"
        if "TTL" not in request.headers or not request.headers["TTL"].isdigit():
            return "TTL missing"
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return "not aes128gcm"
        topic = request.headers.get("Topic")
        if topic is not None and not TOPIC.match(topic):
            return "Topic not 1-32 base64url characters"
        if request.headers.get("Urgency", "normal") not in ("very-low", "low", "normal", "high"):
            return "bad Urgency"
        return None
