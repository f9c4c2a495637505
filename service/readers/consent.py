"""The consent text readers agree to, versioned: a consent row names the version it was given to.

A changed text is a new version; old versions stay here, because consent rows keep
pointing at the words the reader actually saw (Decree 13/2023/NĐ-CP, art. 11: consent
must be specific and provable).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.db.models import ConsentEvent
from service.i18n import N_, gettext, use_language
from service.web.push_consent import WEB_PUSH_CONSENT, WEB_PUSH_VERSION

CURRENT_VERSION = "2026-11-29"
# Each version's words are a msgid of the one catalogue (English in messages.po); a changed
# text, in either language, is a new version with its own msgid, and old versions stay.
TEXTS: dict[str, str] = {
    "2026-11-29": N_(
        "Tôi đồng ý để %(site)s lưu địa chỉ thư điện tử, các chuyên mục và tần suất tôi chọn, cùng thời điểm "
        "và địa chỉ IP khi tôi đăng ký, chỉ để gửi bản tin cho tôi. Tôi có thể đổi lựa chọn, tạm dừng, hủy "
        "đăng ký hoặc yêu cầu xóa dữ liệu bất cứ lúc nào qua liên kết trong mỗi thư "
        "(Nghị định 13/2023/NĐ-CP)."
    ),
}
# What the Telegram bot shows next to its category keyboard: a tap on a category is the consent.
TELEGRAM_VERSION = "2026-11-29-telegram"
TEXTS[TELEGRAM_VERSION] = N_(
    "Khi chọn một chuyên mục, bạn đồng ý để %(site)s lưu mã cuộc trò chuyện Telegram này, các chuyên mục "
    "bạn chọn và thời điểm chọn, chỉ để gửi bản tin tới đây. Gửi /stop để ngừng nhận tin bất cứ lúc nào "
    "(Nghị định 13/2023/NĐ-CP)."
)
# What the "Nhận thông báo" button shows beside it (its words live with the pages that show them).
TEXTS[WEB_PUSH_VERSION] = WEB_PUSH_CONSENT
METHODS = frozenset({"form", "bot", "follow", "admin", "browser"})
ACTIONS = frozenset({"given", "changed", "withdrawn"})


def consent_text(locale: str, site_title: str, version: str = CURRENT_VERSION) -> str:
    """The words of ``version`` in ``locale`` (Vietnamese when the locale is unknown)."""
    with use_language(locale):
        return gettext(TEXTS[version], site=site_title)


def record_consent(
    session: Session,
    *,
    subscription_id: int,
    action: str,
    channel: str,
    method: str,
    now: datetime,
    text_version: str | None = None,
    client_address: str | None = None,
    detail: dict[str, object] | None = None,
) -> ConsentEvent:
    """Append one consent event; rows are never updated (only ``forget`` deletes them)."""
    if method not in METHODS or action not in ACTIONS:
        raise ValueError(f"unknown consent method {method!r} or action {action!r}")
    event = ConsentEvent(
        subscription_id=subscription_id,
        action=action,
        channel=channel,
        method=method,
        text_version=text_version,
        client_address=client_address,
        detail=dict(detail or {}),
        at=now,
    )
    session.add(event)
    return event
