"""What the bot says: Vietnamese (the source text, the default) and English from the one
catalogue (``service.i18n``), for a Telegram user whose ``language_code`` starts with "en".
Plain text: no parse mode, so nothing needs escaping."""

from __future__ import annotations

from service.i18n import N_, gettext, use_language

WORDS: dict[str, str] = {
    "start": N_(
        "Xin chào! Đây là bot bản tin của %(site)s.\n"
        "/subscribe: chọn chuyên mục để nhận tin bài mới ngay trong cuộc trò chuyện này\n"
        "/list: các chuyên mục đang theo dõi\n"
        "/stop: ngừng nhận tin"
    ),
    "choose": N_("Chọn chuyên mục muốn nhận tin (chọn thêm lần nữa để theo dõi nhiều chuyên mục)."),
    "all": N_("Tất cả chuyên mục"),
    "following": N_("Cuộc trò chuyện này đang nhận tin của: %(categories)s."),
    "subscribed": N_("Đã đăng ký. Cuộc trò chuyện này sẽ nhận tin của: %(categories)s.\nGửi /stop để ngừng."),
    "added": N_("Đã thêm: %(category)s"),
    "not_subscribed": N_("Cuộc trò chuyện này chưa đăng ký nhận tin. Gửi /subscribe để bắt đầu."),
    "stopped": N_("Đã ngừng gửi tin tới cuộc trò chuyện này. Gửi /subscribe để đăng ký lại."),
    "linked": N_(
        "Đã liên kết: cuộc trò chuyện này sẽ nhận thông báo duyệt bài của %(name)s tại %(site)s.\n"
        "Muốn ngừng, hãy vào trang quản trị, mục “Nhận thông báo”."
    ),
    "link_failed": N_(
        "Mã liên kết không đúng, đã dùng hoặc đã hết hạn. Hãy tạo mã mới trong trang quản trị, mục “Nhận thông báo”."
    ),
    "stale_choice": N_("Lựa chọn này không còn hợp lệ. Hãy gửi /subscribe để chọn lại."),
}


def locale_of(language_code: str | None) -> str:
    """ "en" for a Telegram user whose IETF language tag starts with "en", else "vi"."""
    return "en" if (language_code or "").lower().startswith("en") else "vi"


def say(locale: str, key: str, **values: str) -> str:
    """The bot's words for ``key`` in ``locale`` (Vietnamese when unknown), filled with ``values``."""
    with use_language(locale):
        return gettext(WORDS[key], **values)
