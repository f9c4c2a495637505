"""The readers' kinds (decision 0032): the two mails a sign-up sends, and the Zalo notices.

- ``reader.confirm``: the confirmation link, rendered by the worker that sends it (the
  token is recomputed from the announcement's salt and BANTIN_SECRET_KEY, never stored);
  no preferences link (nothing to manage yet);
- ``reader.manage``: "manage your subscription", with the preferences link (a confirmed
  address signing up again, or a reader asking for a fresh link on ``/subscribe/manage``);
- ``reader.subscribed``: the welcome a confirmation sends, saying what the reader chose
  (categories and frequency, fixed in the payload when confirmed) and the preferences link;
- ``reader.welcome`` and ``reader.stopped``: what a Zalo follower is told, written when
  planned (``zalo_followers._notice``).

Each mail says which address it went to and what to do if the reader did not ask (Ghost's
wording rule). The confirmation, the manage mail and the reply to a stop go whatever the
subscription's state: they answer what the reader just did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from config.settings import Settings
from service import links
from service.announcements.compose import prepared_words
from service.announcements.kinds import Kind, Recipient
from service.announcements.links import preferences_url
from service.announcements.message import AnnouncementText
from service.i18n import N_, gettext
from service.readers.signup import CONFIRM_MAIL, MANAGE_MAIL, WELCOME_MAIL
from service.readers.zalo_followers import STOPPED_REPLY, WELCOME_NOTICE
from service.urls import with_path
from service.web.templating import build_environment


def confirm_url(settings: Settings, salt: str) -> str:
    """The absolute confirmation link for a sign-up's salt (the token itself is never stored)."""
    token = links.token_from_salt(settings.secret_key.get_secret_value(), salt)
    return with_path(settings.base_url, f"/subscribe/confirm/{token}")


# The frequencies as a reader chose them on the form (the same words as subscribe.html's).
FREQUENCIES = {"each": N_("Mỗi bài mới"), "daily": N_("Tóm tắt hằng ngày"), "weekly": N_("Tóm tắt hằng tuần")}


def _mail(subject: str, lead: str, action: str, url: str, *, facts: Sequence[str] = (),
          ignore: str | None = None) -> AnnouncementText:  # fmt: skip
    """A reader's mail: the lead, ``facts`` (one line each), the action and its link as a
    button, and the line for someone who did not ask (``ignore``: None for the default)."""
    if ignore is None:
        ignore = gettext("Nếu bạn không yêu cầu, hãy bỏ qua thư này: sẽ không có thư nào khác được gửi.")
    text = "\n".join([lead, "", *facts, *([""] if facts else []), action, url, *(["", ignore] if ignore else [])])
    body = (
        build_environment("service.readers")
        .get_template("reader_mail.html")
        .render(lead=lead, facts=facts, action=action, url=url, ignore=ignore)
    )
    return AnnouncementText(subject, text, body, url)


def confirm_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                  now: datetime) -> AnnouncementText:  # fmt: skip
    """The confirmation mail: the link (from the payload's ``salt``) and until when it is valid."""
    site = settings.site_title
    expires = f"{datetime.fromisoformat(str(payload['expires_at'])).astimezone(settings.zone):%H:%M %d/%m/%Y}"
    return _mail(
        gettext("Xác nhận đăng ký nhận tin %(site)s", site=site),
        gettext(
            "Ai đó (có thể là bạn) đã đăng ký địa chỉ %(address)s nhận bản tin %(site)s.",
            address=recipient.target,
            site=site,
        ),
        gettext(
            "Mở liên kết sau và bấm “Xác nhận” để bắt đầu nhận tin (hạn đến %(expires)s):",
            expires=expires,
        ),
        confirm_url(settings, str(payload["salt"])),
    )


def manage_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                 now: datetime) -> AnnouncementText:  # fmt: skip
    """The "manage your subscription" mail: a confirmed address asked to subscribe again."""
    site = settings.site_title
    return _mail(
        gettext("Quản lý đăng ký nhận tin %(site)s", site=site),
        gettext("Địa chỉ %(address)s đã đăng ký nhận bản tin %(site)s.", address=recipient.target, site=site),
        gettext("Đổi chuyên mục, tần suất, tạm dừng hoặc hủy đăng ký tại:"),
        preferences_url(settings, recipient.subscription_id, now),
    )


def welcome_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                  now: datetime) -> AnnouncementText:  # fmt: skip
    """The welcome after a confirmation: the categories and frequency chosen, the preferences link."""
    site = settings.site_title
    categories = [str(name) for name in payload.get("categories") or ()]
    frequency = str(payload.get("frequency") or "each")
    chosen = ", ".join(categories) if categories else gettext("Tất cả chuyên mục")
    return _mail(
        gettext("Chào mừng bạn đến với bản tin %(site)s", site=site),
        gettext(
            "Cảm ơn bạn đã xác nhận. Địa chỉ %(address)s sẽ nhận bản tin %(site)s.", address=recipient.target, site=site
        ),
        gettext("Đổi chuyên mục, tần suất, tạm dừng hoặc hủy đăng ký bất cứ lúc nào tại:"),
        preferences_url(settings, recipient.subscription_id, now),
        facts=(
            gettext("Chuyên mục: %(categories)s", categories=chosen),
            gettext("Tần suất: %(frequency)s", frequency=gettext(FREQUENCIES.get(frequency, FREQUENCIES["each"]))),
        ),
        ignore="",
    )


KINDS = (
    Kind(CONFIRM_MAIL, confirm_words, hold=False, preferences_link=False, label=N_("Thư xác nhận đăng ký")),
    Kind(MANAGE_MAIL, manage_words, hold=False, label=N_("Thư quản lý đăng ký")),
    # Sent once, just after the confirmation: a reader who paused since still gets it.
    Kind(WELCOME_MAIL, welcome_words, hold=False, label=N_("Thư chào mừng người đăng ký")),
    Kind(WELCOME_NOTICE, prepared_words, label=N_("Lời chào người theo dõi Zalo")),
    Kind(STOPPED_REPLY, prepared_words, hold=False, label=N_("Trả lời khi người đọc ngừng nhận")),
)
