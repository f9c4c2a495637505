"""What the delivery log and the subscriber pages say about a stored fact, in the console's
language (issue 20 §6): an announcement's kind, why a subscription is paused or off, and
what a send attempt got back.

The rows keep the machine's words (the API and the logs answer with them, and a reason may
quote a remote's answer); a person reads words from the catalogue. A reason or an error the
tables below do not know is shown after a Vietnamese label, as the remote's or the system's
own text ("Chi tiết: …"), never as if it were ours. ``tests/unit/web/test_log_words.py``
walks the source for every fixed reason written to ``status_reason`` so none is left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from service.i18n import N_, gettext

# A subscription's status_reason as written by the code that pauses or ends it → its words.
REASONS = {
    "paused by the reader": N_("Người đọc tự tạm dừng"),
    "paused by an admin": N_("Quản trị viên tạm dừng"),
    "unsubscribed by the recipient": N_("Người nhận đã hủy đăng ký"),
    "unsubscribed in the browser": N_("Người nhận đã tắt thông báo trên trình duyệt"),
    "removed by its owner": N_("Nhân viên đã bỏ địa chỉ nhận thông báo này"),
    "waiting for the reader's confirmation": N_("Đang chờ người đọc xác nhận qua thư"),
    "awaiting verification": N_("Đang chờ máy nhận xác minh (WebSub)"),
    "lease expired": N_("Hết hạn đăng ký WebSub mà không gia hạn"),
    "stopped by the reader (/stop)": N_("Người đọc gõ /stop trên Telegram"),
    "the bot was blocked by the user": N_("Người đọc đã chặn bot Telegram"),
    "the bot was kicked the group": N_("Bot bị mời ra khỏi nhóm Telegram"),
    "the bot was left the group": N_("Bot đã rời nhóm Telegram"),
    # service.readers.preferences.FORGOTTEN, service.readers.zalo_followers's UNFOLLOWED and ASKED_TO_STOP
    "forgotten at the subscriber's request": N_("Đã xóa dữ liệu theo yêu cầu của người nhận"),
    "the follower left the Official Account (unfollow)": N_("Người theo dõi đã bỏ theo dõi Zalo OA"),
    "the follower asked to stop in the Official Account chat": N_("Người theo dõi đã nhắn ngừng nhận trên Zalo OA"),
}

# Errors written by our own code (not a remote's answer) → their words.
ERRORS = {
    "BANTIN_SMTP_HOST is not set": N_("Chưa cấu hình máy chủ thư (BANTIN_SMTP_HOST)."),
    "BANTIN_TELEGRAM_BOT_TOKEN is not set": N_("Chưa cấu hình bot Telegram (BANTIN_TELEGRAM_BOT_TOKEN)."),
    "BANTIN_ZALO_ACCESS_TOKEN is not set": N_("Chưa cấu hình Zalo OA (BANTIN_ZALO_ACCESS_TOKEN)."),
    "apprise is not installed": N_("Máy chủ chưa cài Apprise."),
    "Apprise reported a failure": N_("Apprise báo gửi không được."),
    "feed body not available": N_("Không đọc được nội dung feed để gửi."),
    "not sent": N_("Chưa gửi."),
    "subscription disabled": N_("Người nhận đã bị tắt nên tin không được gửi."),
    # service.channels.zalo: which form a Zalo message went in, or why it waits (decision 0040)
    "Zalo: outside the 7-day window (-230), to be sent as a promotion message": N_(
        "Người theo dõi không tương tác với OA trong 7 ngày (mã -230): tin sẽ gửi lại dạng tin truyền thông."
    ),
    "Zalo: outside the 7-day window, sent as a promotion message": N_(
        "Đã gửi dạng tin truyền thông vì người theo dõi không tương tác với OA trong 7 ngày."
    ),
    "Zalo: promotion quota used up, waiting for it to return": N_(
        "Đã hết hạn mức tin truyền thông của OA: tin chờ đến khi hạn mức được cấp lại."
    ),
    "Zalo: the follower's promotion limit reached, waiting a day": N_(
        "Người theo dõi đã nhận đủ số tin truyền thông cho phép: tin chờ một ngày rồi gửi."
    ),
    "Zalo: promotion messages are not sent at night, waiting for the morning": N_(
        "Zalo không gửi tin truyền thông ban đêm (22:00–6:00): tin chờ đến sáng."
    ),
}

_Words = Callable[[re.Match[str]], str]


def _since(match: re.Match[str]) -> str:
    from service.web.templating import local_time  # the module that registers these words as filters

    try:
        when = local_time(datetime.fromisoformat(match["when"]))
    except ValueError:
        when = match["when"]
    return gettext("Gửi lỗi liên tục, không lần nào thành công từ %(when)s", when=when)


# Reasons and errors with values in them: (pattern, words from the match), first match wins.
PATTERNS: list[tuple[re.Pattern[str], _Words]] = [
    (re.compile(r"^failing without a success since (?P<when>\S+)$"), _since),
    (
        re.compile(r"^(?P<reason>.+), which subscription (?P<id>\d+) has$", re.S),
        lambda m: gettext(
            "%(reason)s; địa chỉ mới đã thuộc người nhận #%(id)s", reason=reason_words(m["reason"]), id=m["id"]
        ),
    ),
    (
        re.compile(r"^subscription (?:disabled|ended): (?P<reason>.+)$", re.S),
        lambda m: gettext("Người nhận đã bị tắt: %(reason)s", reason=reason_words(m["reason"])),
    ),
    (
        re.compile(r"^HTTP (?P<code>\d{3}):?\s*(?P<text>.*)$", re.S),
        lambda m: gettext("Máy nhận trả lời mã %(code)s: %(text)s", code=m["code"], text=m["text"] or "—"),
    ),
    (
        re.compile(r"^Telegram (?P<code>\d+): (?P<text>.*)$", re.S),
        lambda m: gettext("Telegram từ chối (mã %(code)s): %(text)s", code=m["code"], text=m["text"]),
    ),
    (
        re.compile(r"^SMTP: (?P<text>.*)$", re.S),
        lambda m: gettext("Máy chủ thư báo lỗi: %(text)s", text=m["text"]),
    ),
    (
        re.compile(r"^recipient refused: (?P<text>.*)$", re.S),
        lambda m: gettext("Máy chủ thư từ chối người nhận: %(text)s", text=m["text"]),
    ),
    (
        re.compile(r"^egress denied: (?P<text>.*)$", re.S),
        lambda m: gettext("Địa chỉ nhận bị chặn vì an toàn mạng: %(text)s", text=m["text"]),
    ),
    (
        re.compile(r"^redirect to (?P<to>.*) not followed$", re.S),
        lambda m: gettext("Máy nhận chuyển hướng tới %(to)s; tin không đi theo chuyển hướng.", to=m["to"]),
    ),
    (
        re.compile(r"^internal error: (?P<text>.*)$", re.S),
        lambda m: gettext("Lỗi nội bộ khi gửi: %(text)s", text=m["text"]),
    ),
]


def _words(text: str, table: dict[str, str]) -> str:
    known = table.get(text)
    if known is not None:
        return gettext(known)
    for pattern, words in PATTERNS:
        match = pattern.match(text)
        if match is not None:
            return words(match)
    return gettext("Chi tiết: %(text)s", text=text)


def reason_words(reason: str | None) -> str:
    """Why a subscription is paused, pending or off, as a person reads it; empty for None."""
    return "" if not reason else _words(reason, REASONS)


def error_words(error: str | None) -> str:
    """What went wrong with a send, as a person reads it (a remote's own text quoted); empty for None."""
    return "" if not error else _words(error, {**REASONS, **ERRORS})


def answer_words(status_code: int | None) -> str:
    """What the receiving end answered: SMTP's 250 is "the mail server accepted it", an HTTP
    2xx "received", anything else "refused", with the code for whoever looks further."""
    if status_code is None:
        return ""
    if status_code == 250:
        return gettext("Máy chủ thư đã nhận")
    if 200 <= status_code < 300:
        return gettext("Đã nhận (mã %(code)s)", code=status_code)
    return gettext("Bị từ chối (mã %(code)s)", code=status_code)
