"""The consent words beside the "Nhận thông báo" button (Web Push, decision 0041).

Here, below the pages that show them, so templates need not import ``service.readers``;
``service.readers.consent`` lists them among the versioned consent texts, and a browser
subscription's consent row names ``WEB_PUSH_VERSION``. Pressing the button, then allowing
notifications in the browser's own prompt, is the consent. A changed text is a new version.
"""

from __future__ import annotations

from service.i18n import N_, gettext, language, use_language

WEB_PUSH_VERSION = "2026-12-07-web-push"
WEB_PUSH_CONSENT = N_(
    "Khi bấm “Nhận thông báo” và cho phép, bạn đồng ý để %(site)s lưu địa chỉ nhận thông báo mà trình "
    "duyệt cấp, các chuyên mục bạn chọn và thời điểm đăng ký, chỉ để gửi thông báo bài mới tới trình duyệt "
    "này. Bấm “Tắt thông báo” hoặc chặn thông báo trong trình duyệt để ngừng bất cứ lúc nào "
    "(Nghị định 13/2023/NĐ-CP)."
)


def web_push_consent(site_title: str, locale: str | None = None) -> str:
    """The words in ``locale`` (the current language when None)."""
    with use_language(locale or language()):
        return gettext(WEB_PUSH_CONSENT, site=site_title)
