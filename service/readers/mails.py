"""The words of the two mails a sign-up sends: the confirmation link, and "manage your subscription".

Rendered by the worker that sends them (the confirmation token is recomputed from the
announcement's salt and BANTIN_SECRET_KEY, never stored). Each says which address it
went to and what to do if the reader did not ask (Ghost's wording rule).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from config.settings import Settings
from service.channels.text import AnnouncementText
from service.channels.urls import with_path
from service.readers import links
from service.readers.preferences import preferences_url
from service.readers.signup import CONFIRM_MAIL

WORDS = {
    "vi": {
        "confirm_subject": "Xác nhận đăng ký nhận tin {site}",
        "confirm_lead": "Ai đó (có thể là bạn) đã đăng ký địa chỉ {address} nhận bản tin {site}.",
        "confirm_action": "Mở liên kết sau và bấm “Xác nhận” để bắt đầu nhận tin (hạn đến {expires}):",
        "manage_subject": "Quản lý đăng ký nhận tin {site}",
        "manage_lead": "Địa chỉ {address} đã đăng ký nhận bản tin {site}.",
        "manage_action": "Đổi chuyên mục, tần suất, tạm dừng hoặc hủy đăng ký tại:",
        "ignore": "Nếu bạn không yêu cầu, hãy bỏ qua thư này: sẽ không có thư nào khác được gửi.",
    },
    "en": {
        "confirm_subject": "Confirm your subscription to {site}",
        "confirm_lead": "Someone (probably you) asked for {address} to receive the {site} newsletter.",
        "confirm_action": "Open this link and press “Confirm” to start receiving it (valid until {expires}):",
        "manage_subject": "Manage your {site} subscription",
        "manage_lead": "{address} is subscribed to the {site} newsletter.",
        "manage_action": "Change categories or frequency, pause or unsubscribe here:",
        "ignore": "If you did not ask for this, ignore this e-mail: nothing else will be sent.",
    },
}


def confirm_url(settings: Settings, salt: str) -> str:
    """The absolute confirmation link for a sign-up's salt (the token itself is never stored)."""
    token = links.token_from_salt(settings.secret_key.get_secret_value(), salt)
    return with_path(settings.base_url, f"/subscribe/confirm/{token}")


def reader_mail(
    settings: Settings,
    event_type: str,
    payload: Mapping[str, Any],
    locale: str,
    address: str,
    subscription_id: int,
    now: datetime,
) -> AnnouncementText:
    """Subject, text and HTML of a confirmation or a manage mail."""
    words = WORDS.get(locale, WORDS["vi"])
    site = settings.site_title
    if event_type == CONFIRM_MAIL:
        url = confirm_url(settings, str(payload["salt"]))
        expires = datetime.fromisoformat(str(payload["expires_at"])).astimezone(settings.zone)
        subject = words["confirm_subject"].format(site=site)
        lead = words["confirm_lead"].format(address=address, site=site)
        action = words["confirm_action"].format(expires=f"{expires:%H:%M %d/%m/%Y}")
    else:
        url = preferences_url(settings, subscription_id, now)
        subject = words["manage_subject"].format(site=site)
        lead = words["manage_lead"].format(address=address, site=site)
        action = words["manage_action"]
    text = f"{lead}\n\n{action}\n{url}\n\n{words['ignore']}"
    link = html.escape(url)
    body = (
        f"<p>{html.escape(lead)}</p><p>{html.escape(action)}</p>"
        f'<p><a href="{link}">{link}</a></p><p>{html.escape(words["ignore"])}</p>'
    )
    return AnnouncementText(subject, text, body, url)
