"""The subscriptions' kinds (decision 0032): a test message, and the notice to the admin
channel that a subscription was disabled.

Both carry their sentence in the payload's ``message`` (a test's in the subscription's
language, written when planned; a notice's naming the subscription and the reason); the
words put a lead for the kind before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from config.settings import Settings
from service.announcements.compose import lines_words
from service.announcements.kinds import Kind, Recipient, Words
from service.announcements.message import AnnouncementText
from service.deliveries.planning import DISABLED_NOTICE
from service.i18n import N_, gettext

TEST_MESSAGE = "subscription.test"


def notice_words(headline: str, lead: str) -> Words:
    """``headline`` (with ``%(message)s``) filled with the payload's message; ``lead`` without one."""

    def words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings, now: datetime) -> AnnouncementText:
        message = str(payload.get("message") or "")
        return lines_words(gettext(headline, message=message) if message else gettext(lead), [], None)

    return words


KINDS = (
    Kind(TEST_MESSAGE, notice_words(N_("Tin thử: %(message)s"), N_("Tin thử")), label=N_("Tin thử")),
    Kind(
        DISABLED_NOTICE,
        notice_words(N_("Kênh nhận tin bị tắt: %(message)s"), N_("Kênh nhận tin bị tắt")),
        label=N_("Báo kênh nhận tin bị tắt"),
    ),
)
