"""What a person reads when a value is refused: each error code's words, in the request's language.

The domain refuses with a code and its values (``service.errors``: ``InvalidField``, a
schema's ``invalid``, pydantic's own error types); the console and the public forms look
the code up here, never the English sentence the API answers with. Vietnamese is the
source text (msgids), English the catalogue's; a code without words here shows the domain's
English, as a last resort.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.errors import FieldError
from service.i18n import N_, gettext

EMPTY = N_("Không được để trống.")
CHOOSE = N_("Giá trị không hợp lệ; hãy chọn trong danh sách.")
NON_PUBLIC = N_("Trỏ tới địa chỉ nội bộ hoặc dành riêng (%(address)s); chỉ gửi được tới địa chỉ công khai.")
BAD_ESCAPE = N_("Chứa mã %XX không hợp lệ.")

WORDS: dict[str, str] = {
    "empty": EMPTY,
    "missing": EMPTY,  # pydantic: a field not sent at all
    "literal_error": CHOOSE,  # pydantic: not one of the choices
    "enum": CHOOSE,
    "too_long": N_("Dài %(length)s ký tự; tối đa %(limit)s ký tự."),
    "too_large": N_("Dài %(length)s byte; tối đa %(limit)s byte."),
    "longer_than": N_("Dài quá %(limit)s ký tự."),
    "longer_than_bytes": N_("Dài quá %(limit)s byte."),
    "control_characters": N_("Không được chứa ký tự điều khiển."),
    "control_character": N_("Không được chứa ký tự điều khiển."),  # pydantic's type, for a search or a page number
    "invisible_characters": N_("Không được chứa ký tự ẩn."),
    "no_visible_text": N_("Không còn chữ nào sau khi bỏ mã định dạng."),
    "no_visible_content": N_("Không có nội dung hiển thị được; hãy viết chữ hoặc chèn ảnh."),
    "url_characters": N_("Không được chứa khoảng trắng, ký tự điều khiển hay ký tự ẩn."),
    "not_absolute_url": N_("Phải là địa chỉ đầy đủ bắt đầu bằng http:// hoặc https://."),
    "too_many": N_("Có %(count)s chuyên mục; tối đa %(limit)s."),
    "entry_empty": N_("Có một chuyên mục để trống."),
    "entry_too_long": N_("Tên chuyên mục dài quá %(limit)s ký tự."),
    "entry_no_slug": N_("“%(name)s” không có chữ hay số nào để làm tên chuyên mục."),
    "new_category_not_allowed": N_(
        "Chưa có chuyên mục “%(name)s” và bạn không được tạo chuyên mục mới; hãy chọn trong danh sách "
        "hoặc nhờ quản trị viên tạo."
    ),
    "not_category": N_("“%(name)s” không phải tên chuyên mục."),
    "comment_needed": N_("Ghi rõ cần sửa gì để phóng viên biết."),
    # images without words (service.articles.alt_text): refused when publishing
    "cover_alt_missing": N_("Ảnh bìa cần mô tả ảnh (alt) cho người không nhìn thấy ảnh trước khi đăng."),
    "image_alt_missing": N_(
        "Có %(count)s ảnh trong nội dung chưa có mô tả ảnh (alt); hãy mô tả từng ảnh được đánh dấu dưới đây."
    ),
    "code_wrong": N_("Mã không đúng; hãy nhập mã 6 chữ số đang hiện trong ứng dụng xác thực."),
    # a subscriber's target: the channels and the egress guard
    "not_https_url": N_("Phải là địa chỉ bắt đầu bằng https://."),
    "no_host": N_("Địa chỉ thiếu tên máy chủ."),
    "credentials": N_("Không được chứa tên đăng nhập hay mật khẩu."),
    "invalid_port": N_("Cổng (port) trong địa chỉ không hợp lệ."),
    "unresolved": N_("Không tìm thấy máy chủ “%(host)s”."),
    "non_public": NON_PUBLIC,
    "apprise_non_public": NON_PUBLIC,
    "http_not_allowed": N_("Phải dùng https:// (http:// chỉ dành cho máy chủ được cho phép riêng)."),
    "url_character": N_("Chứa ký tự không được có trong URL."),
    "bad_percent": BAD_ESCAPE,
    "encoded_control": BAD_ESCAPE,
    "not_chat_id": N_("Phải là mã cuộc trò chuyện Telegram (ví dụ -1001234567890) hoặc @tenkenh."),
    "not_zalo_user": N_("Phải là user_id dạng số của người theo dõi Official Account."),
    "not_page_id": N_("Phải là ID dạng số của một Trang Facebook."),
    "invalid_push_key": N_("Trình duyệt gửi khóa đăng ký thông báo không hợp lệ."),
    "not_push_service": N_("Trình duyệt này dùng một dịch vụ thông báo mà trang chưa nhận."),
    "push_keys_differ": N_(
        "Địa chỉ nhận thông báo này đã được đăng ký với khóa khác; hãy tắt thông báo trên trình duyệt đó trước."
    ),
    "not_email": N_("Không phải địa chỉ e-mail hợp lệ."),
    "email": N_("Địa chỉ thư điện tử không hợp lệ."),
    "consent_needed": N_("Cần đánh dấu đồng ý để đăng ký."),
    "no_category_exists": N_("Chuyên mục không hợp lệ."),
    "unknown_category": N_("Chuyên mục không hợp lệ."),
    "menu_place": N_("Thứ tự là một số từ 1 đến %(limit)s."),
    "apprise_missing": N_("Máy chủ chưa cài Apprise (bantin[apprise]); chọn kênh khác."),
    "apprise_none": N_("Không có URL Apprise nào."),
    "apprise_too_many": N_("Có %(count)s URL; tối đa %(limit)s."),
    "apprise_unknown": N_("Apprise không hiểu URL “%(url)s”."),
    "apprise_host_unknown": N_("%(service)s: không biết dịch vụ này gọi tới máy chủ nào."),
    # the calendar's key dates
    "month_range": N_("Tháng từ 1 đến 12."),
    "solar_leap_month": N_("Chỉ ngày âm lịch mới có tháng nhuận."),
    "lunar_day": N_("Ngày âm lịch từ 1 đến 30."),
    "lunar_years": N_("Lịch âm chỉ tính được từ năm 1901 đến năm 2099."),
    "no_leap_month": N_("Năm %(year)s âm lịch không có tháng %(month)s nhuận."),
    "lunar_day_30": N_("Tháng %(month)s âm lịch năm %(year)s chỉ có 29 ngày; không có ngày 30."),
    "template": N_("Mẫu lời nhắc không dùng được: %(reason)s"),
    "template_too_long": N_("Mẫu lời nhắc (%(locale)s) dài quá %(limit)s ký tự."),
    "offset_range": N_("Mỗi mốc nhắc là số ngày trước, từ 0 đến 366."),
    "not_time": N_("Giờ dạng HH:MM, từ 00:00 đến 23:59."),
    "key_date_id": N_(
        "Chỉ chữ thường không dấu, chữ số và dấu gạch ngang (tối đa 80 ký tự), bắt đầu bằng chữ hoặc số."
    ),
}


def words(code: str, params: Mapping[str, Any], english: str) -> str:
    """What ``code`` says with ``params``, in the request's language; ``english`` (the
    domain's sentence) for a code that has no words here."""
    message = WORDS.get(code)
    return gettext(message, **params) if message is not None else english


def refusal(error: FieldError) -> str:
    """A field error as a person reads it (``words`` of its code and values)."""
    return words(error.code, error.params, error.message)
