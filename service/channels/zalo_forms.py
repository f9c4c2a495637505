"""The Zalo OA API's message forms and what its answers mean (decision 0040).

Two forms carry an announcement to a follower:

- **tư vấn** (customer service), ``POST /v3.0/oa/message/cs`` with ``message.text``: only to
  a follower who interacted with the OA in the last 7 days (following counts); otherwise the
  API answers ``-230`` ("User has not interacted with the OA in the past 7 days");
- **truyền thông** (promotion), ``POST /v3.0/oa/message/promotion`` with the template
  ``promotion``: ``elements`` of ``banner`` (an image by ``image_url``), ``header`` (≤ 100
  characters), ``text`` (≤ 1,000) and ``buttons`` (``oa.open.url``, title ≤ 35), to any
  follower, within the OA's promotion quota.

Sources: the official SDK zaloplatform/zalo-java-sdk ``src/test/java/v3/SendPromotionMessage.java``
(the request) and the error tables quoted in docs/decisions/0040.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from service.announcements.message import Message

CS_PATH = "/v3.0/oa/message/cs"
PROMOTION_PATH = "/v3.0/oa/message/promotion"
MAX_TEXT = 2000  # a tư vấn text message
MAX_HEADER = 100  # a promotion's header element
MAX_PROMOTION_TEXT = 1000  # a promotion's text element
MAX_BUTTON_TITLE = 35
# The window in which a tư vấn message reaches a follower: 7 days since they last interacted.
WINDOW_MS = 7 * 86400 * 1000
HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)
# The subscription option a -230 leaves (epoch ms): outside the window since then, until the
# follower interacts again (a newer ``zalo_event_ms`` or ``zalo_interaction_ms``).
COLD_MARK = "zalo_cold_ms"


class Answer(Enum):
    """What one answer of the OA API means for the delivery."""

    SENT = "sent"
    GONE = "gone"  # -213 not a follower, -227 banned or inactive 45 days: the subscription ends
    OUTSIDE_WINDOW = "outside_window"  # -230, -232: a tư vấn message cannot go; switch form
    OA_QUOTA = "oa_quota"  # -211 out of quota, -224 the package's limit: wait for the next window
    FOLLOWER_QUOTA = "follower_quota"  # -218 the follower's own promotion limit: wait a day
    NIGHT = "night"  # -234 promotion messages are not sent 22:00-06:00: wait for the morning
    RATE = "rate"  # -32 too many calls a minute: back off
    FAILED = "failed"  # anything else (-201 a malformed body, -216 a bad token ...): retried


CODES: Mapping[int, Answer] = {
    0: Answer.SENT,
    -213: Answer.GONE,
    -227: Answer.GONE,
    -230: Answer.OUTSIDE_WINDOW,
    -232: Answer.OUTSIDE_WINDOW,
    -211: Answer.OA_QUOTA,
    -224: Answer.OA_QUOTA,
    -218: Answer.FOLLOWER_QUOTA,
    -234: Answer.NIGHT,
    -32: Answer.RATE,
}


@dataclass(frozen=True)
class OaAnswer:
    """An answer's ``error`` code (None when the body was no JSON object) and ``message``."""

    code: int | None
    detail: str

    @property
    def meaning(self) -> Answer:
        """What the error code asks of us (an unknown or missing code is a plain failure)."""
        return CODES.get(self.code, Answer.FAILED) if self.code is not None else Answer.FAILED


def read_answer(body: object, raw: str) -> OaAnswer:
    """The OA API answers HTTP 200 whatever happens: ``{"error": 0 | -nnn, "message": …}``."""
    if isinstance(body, dict):
        code = body.get("error")
        return OaAnswer(code if isinstance(code, int) else None, str(body.get("message", ""))[:120])
    return OaAnswer(None, raw[:120])


def last_interaction_ms(options: Mapping[str, Any]) -> int:
    """When the follower last interacted with the OA as far as we saw (epoch ms; 0: never):
    the newest event of theirs we applied (follow, a command) or message we read."""
    stamps = (options.get("zalo_event_ms"), options.get("zalo_interaction_ms"))
    return max((s for s in stamps if isinstance(s, int)), default=0)


def known_cold(options: Mapping[str, Any], now_ms: int | None = None) -> bool:
    """True when their last interaction we know of is over 7 days old: a tư vấn message would
    get -230, so the promotion form is used at once; also when a -230 said so (``COLD_MARK``)
    since their last interaction we saw. A follower gone cold in a way we did not see is
    found out by the -230 itself."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    last = last_interaction_ms(options)
    marked = options.get(COLD_MARK)
    if isinstance(marked, int) and marked >= last:
        return True
    # Never seen (a subscription made by hand, before any event): tư vấn is tried first.
    return last > 0 and now_ms - last > WINDOW_MS


def cs_document(user_id: str, text: str) -> dict[str, Any]:
    """A tư vấn text message (``text`` already fitted to ``MAX_TEXT``)."""
    return {"recipient": {"user_id": user_id}, "message": {"text": text}}


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def promotion_document(user_id: str, message: Message, button: str) -> dict[str, Any]:
    """The promotion template for one finished message: the cover as a banner (an http(s)
    image only), the subject as the header, the text without its link line, and one button
    opening the link, titled ``button`` ("Đọc bài")."""
    elements: list[dict[str, Any]] = []
    if message.image_url and HTTP_URL.match(message.image_url):
        elements.append({"type": "banner", "image_url": message.image_url})
    header = message.subject or message.text.split("\n", 1)[0]
    elements.append({"type": "header", "align": "left", "content": _cut(header, MAX_HEADER)})
    lines = [line for line in message.text.split("\n") if line.strip() and line.strip() != (message.url or "")]
    if lines and lines[0].strip() == header.strip():
        lines = lines[1:]
    if lines:
        elements.append({"type": "text", "align": "left", "content": _cut("\n".join(lines), MAX_PROMOTION_TEXT)})
    payload: dict[str, Any] = {"template_type": "promotion", "elements": elements}
    if message.url and HTTP_URL.match(message.url):
        title = _cut(message.link_label or button, MAX_BUTTON_TITLE)
        payload["buttons"] = [{"title": title, "type": "oa.open.url", "payload": {"url": message.url}}]
    return {
        "recipient": {"user_id": user_id},
        "message": {"attachment": {"type": "template", "payload": payload}},
    }
