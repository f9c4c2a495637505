"""What bench.fanout needs of each channel it can fan out on: how its subscriptions are
seeded by SQL, the settings the stack needs for it, how the receiver plays the other end
and what one delivery looks like on the wire (what the bare client repeats for the ceiling).

- ``webhook``: ``http://127.0.0.1:PORT/hooks/N``, each with its own Standard Webhooks
  secret; the receiver answers 204 and counts distinct ``webhook-id``s.
- ``web-push``: ``http://127.0.0.1:PORT/push/N`` with a handful of real browser key pairs
  (P-256 ``p256dh`` in the options, the 16-byte ``auth`` as the secret, as
  ``service/readers/web_push.py`` stores them) cycled over the subscriptions: each push is
  still encrypted afresh (a new sender key and salt), so which browser does not change the
  cost. The receiver answers 201 as a push service does; a push carries no delivery id, so
  a delivery is its endpoint (``bench/receiver.py --push``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import create_engine, text

# Subscriptions written per INSERT … SELECT statement.
CHUNK = 100_000
# Browser key pairs cycled over the web push subscriptions (bench/web_push.py: the cost of a
# push does not depend on which browser it is for).
BROWSERS = 8


@dataclass(frozen=True)
class Wire:
    """One delivery as the bare client repeats it: POST ``path`` + n with ``body`` and
    ``headers``, answered ``status``."""

    path: str
    body: bytes
    headers: dict[str, str]
    status: int


class Channel(Protocol):
    name: str  # subscriptions.channel
    label: str  # what a subscription is called in the report
    id_name: str  # what the receiver counts as distinct
    receiver_args: tuple[str, ...]

    def env(self) -> dict[str, str]: ...

    def seed(self, database_url: str, port: int, count: int) -> None: ...

    def wire(self, port: int) -> Wire: ...


def seed(database_url: str, count: int, channel: str, options: str, secret: str, params: dict[str, Any]) -> None:
    """``count`` active ``channel`` subscriptions written by PostgreSQL itself, targets
    ``:base`` + n: an INSERT … SELECT over ``generate_series(:start, :end) g`` whose
    ``options`` and ``secret`` are the channel's SQL expressions of ``g``, run CHUNK rows at
    a time (a million in well under a minute, not through the API), then VACUUM ANALYZE as
    after a bulk load."""
    insert = f"""
        INSERT INTO subscriptions (channel, target, events, categories, locale, options, status, secret,
                                   unsubscribe_token, frequency, created_at, updated_at)
        SELECT '{channel}', CAST(:base AS text) || g, '[]', '[]', 'vi', {options}, 'active', {secret},
               md5(random()::text) || md5(random()::text), 'each', now(), now()
        FROM generate_series(CAST(:start AS int), CAST(:end AS int)) g
        """  # noqa: S608 - the bench's own fixed expressions, no outside text
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            connection.execute(text(insert), {**params, "start": start, "end": min(count, start + CHUNK) - 1})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE subscriptions"))
    engine.dispose()


class Webhook:
    name = "webhook"
    label = "webhook subscriptions"
    id_name = "webhook-ids"
    receiver_args: tuple[str, ...] = ()

    def env(self) -> dict[str, str]:
        return {}

    def seed(self, database_url: str, port: int, count: int) -> None:
        """Each with its own Standard Webhooks secret (``whsec_`` + base64 of 32 random bytes)."""
        seed(
            database_url,
            count,
            "webhook",
            "'{}'",
            "'whsec_' || encode(decode(md5(random()::text) || md5(random()::text), 'hex'), 'base64')",
            {"base": f"http://127.0.0.1:{port}/hooks/"},
        )

    def wire(self, port: int) -> Wire:
        return Wire("/hooks/", sample_payload(), {"Content-Type": "application/json"}, 204)


@dataclass
class WebPush:
    name = "web_push"
    label = "Web Push subscriptions"
    id_name = "endpoints"
    receiver_args: tuple[str, ...] = ("--push",)
    vapid: tuple[str, str] = field(default_factory=lambda: _vapid_keys())
    browsers: list[tuple[str, str]] = field(default_factory=lambda: _browser_keys(BROWSERS))

    def env(self) -> dict[str, str]:
        """The desk's VAPID pair; the bench's push service is 127.0.0.1, which the egress
        allow-list (BANTIN_EGRESS_ALLOW, set by bench.fanout) lets the sender reach over
        http. BANTIN_WEB_PUSH_SERVICES is checked when a browser subscribes, not at send
        time; it is set so the stack would accept these endpoints from a browser too."""
        private, public = self.vapid
        return {
            "BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY": private,
            "BANTIN_WEB_PUSH_VAPID_PUBLIC_KEY": public,
            "BANTIN_WEB_PUSH_SUBJECT": "mailto:bench@example.vn",
            "BANTIN_WEB_PUSH_SERVICES": "127.0.0.1",
        }

    def seed(self, database_url: str, port: int, count: int) -> None:
        """Endpoint ``/push/N``, ``options = {"p256dh": …}``, secret the ``auth``: browser N mod BROWSERS."""
        seed(
            database_url,
            count,
            "web_push",
            "json_build_object('p256dh', (CAST(:keys AS text[]))[1 + g % CAST(:n AS int)])",
            "(CAST(:auths AS text[]))[1 + g % CAST(:n AS int)]",
            {
                "base": f"http://127.0.0.1:{port}/push/",
                "keys": [key for key, _ in self.browsers],
                "auths": [auth for _, auth in self.browsers],
                "n": len(self.browsers),
            },
        )

    def wire(self, port: int) -> Wire:
        """A push of the article the bench publishes, encrypted for the first browser, with the
        headers ``WebPushChannel.send`` sends (VAPID for the receiver's origin)."""
        from py_vapid import Vapid02

        from config.settings import get_settings
        from service.channels.web_push import Vapid, encrypt, notification_payload, topic_for
        from tests.outbound import outbound

        settings = get_settings()
        vapid = Vapid(Vapid02.from_raw(self.vapid[0].encode()), self.env()["BANTIN_WEB_PUSH_SUBJECT"], {})
        endpoint = f"http://127.0.0.1:{port}/push/0"
        message = outbound("article.published", article_payload(), channel="web_push", target=endpoint).message
        topic = topic_for(message, "article.published:1")
        p256dh, auth = self.browsers[0]
        body = encrypt(notification_payload(message, settings, topic), p256dh, auth)
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(settings.web_push_ttl_seconds),
            "Urgency": settings.web_push_urgency,
            "Topic": topic,
            "Authorization": vapid.authorization(endpoint, time.time()),
        }
        return Wire("/push/", body, headers, 201)


CHANNELS: dict[str, Callable[[], Channel]] = {"webhook": Webhook, "web-push": WebPush}


def _vapid_keys() -> tuple[str, str]:
    from service.channels.web_push import new_vapid_keys

    return new_vapid_keys()


def _browser_keys(count: int) -> list[tuple[str, str]]:
    from bench.web_push import browser_keys

    return browser_keys(count)


def article_payload() -> dict[str, Any]:
    """The announcement's payload for the article bench.fanout publishes (its size and shape)."""
    return {
        "article": {
            "id": 1,
            "guid": f"urn:uuid:{uuid.uuid4()}",
            "title": "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam",
            "summary": "Tóm tắt",
            "url": "http://127.0.0.1:8000/articles/1/ky-niem-97-nam",
            "author": None,
            "categories": [],
            "published_at": "2026-11-27T00:00:00+00:00",
            "updated_at": "2026-11-27T00:00:00+00:00",
            "image_url": None,
        },
        "links": {"feed": "http://127.0.0.1:8000/feeds/atom.xml"},
    }


def sample_payload() -> bytes:
    """The webhook body the service sends for that article (its size and shape)."""
    from service.channels.webhook import webhook_body
    from tests.outbound import outbound

    message = outbound("article.published", article_payload(), delivery_id="msg_" + "0" * 32, created_at=time.time())
    return webhook_body(message)
