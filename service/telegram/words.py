"""What the bot says, in Vietnamese (the default) and English (a Telegram user whose
``language_code`` starts with "en"). Plain text: no parse mode, so nothing needs escaping."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "start": (
            "Xin chào! Đây là bot bản tin của {site}.\n"
            "/subscribe: chọn chuyên mục để nhận tin bài mới ngay trong cuộc trò chuyện này\n"
            "/list: các chuyên mục đang theo dõi\n"
            "/stop: ngừng nhận tin"
        ),
        "choose": "Chọn chuyên mục muốn nhận tin (chọn thêm lần nữa để theo dõi nhiều chuyên mục).",
        "all": "Tất cả chuyên mục",
        "following": "Cuộc trò chuyện này đang nhận tin của: {categories}.",
        "subscribed": "Đã đăng ký. Cuộc trò chuyện này sẽ nhận tin của: {categories}.\nGửi /stop để ngừng.",
        "added": "Đã thêm: {category}",
        "not_subscribed": "Cuộc trò chuyện này chưa đăng ký nhận tin. Gửi /subscribe để bắt đầu.",
        "stopped": "Đã ngừng gửi tin tới cuộc trò chuyện này. Gửi /subscribe để đăng ký lại.",
        "stale_choice": "Lựa chọn này không còn hợp lệ. Hãy gửi /subscribe để chọn lại.",
    },
    "en": {
        "start": (
            "Hello! This is {site}'s news bot.\n"
            "/subscribe: choose categories and get new articles right in this chat\n"
            "/list: the categories this chat follows\n"
            "/stop: stop the news"
        ),
        "choose": "Choose a category to follow (choose again to follow several).",
        "all": "All categories",
        "following": "This chat gets the news of: {categories}.",
        "subscribed": "Subscribed. This chat will get the news of: {categories}.\nSend /stop to end it.",
        "added": "Added: {category}",
        "not_subscribed": "This chat is not subscribed. Send /subscribe to start.",
        "stopped": "No more news will be sent to this chat. Send /subscribe to subscribe again.",
        "stale_choice": "This choice is no longer valid. Send /subscribe to choose again.",
    },
}


def locale_of(language_code: str | None) -> str:
    """ "en" for a Telegram user whose IETF language tag starts with "en", else "vi"."""
    return "en" if (language_code or "").lower().startswith("en") else "vi"


def say(locale: str, key: str, **values: str) -> str:
    """The bot's words for ``key`` in ``locale`` (Vietnamese when unknown), filled with ``values``."""
    return WORDS.get(locale, WORDS["vi"])[key].format(**values)
