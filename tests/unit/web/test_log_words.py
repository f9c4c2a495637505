"""The console's words for stored facts (issue 20 §6): kinds, status reasons, send results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.announcement_kinds import register_all
from service.announcements.kinds import _kinds, kind_label
from service.i18n import use_language
from service.readers.preferences import FORGOTTEN
from service.readers.zalo_followers import ASKED_TO_STOP, UNFOLLOWED
from service.web.log_words import REASONS, answer_words, error_words, reason_words

SERVICE = Path(__file__).resolve().parents[3] / "service"
# `status_reason = "…"`, `status_reason="…"` and the reasons handed to the functions that end a chat.
WRITTEN_REASON = re.compile(r"""status_reason\s*=\s*"([^"{]+)"|chats\.end\(session, [^,]+, "([^"{]+)\"""")


def test_every_fixed_reason_the_code_writes_has_words() -> None:
    written = set()
    for path in SERVICE.rglob("*.py"):
        for match in WRITTEN_REASON.finditer(path.read_text(encoding="utf-8")):
            written.add(match.group(1) or match.group(2))
    assert {"paused by the reader", "waiting for the reader's confirmation", "lease expired"} <= written
    assert written - REASONS.keys() == set()
    assert {FORGOTTEN, UNFOLLOWED, ASKED_TO_STOP} <= REASONS.keys()  # written through their constants


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("paused by the reader", "Người đọc tự tạm dừng"),
        ("waiting for the reader's confirmation", "Đang chờ người đọc xác nhận qua thư"),
        ("the bot was kicked the group", "Bot bị mời ra khỏi nhóm Telegram"),
        ("failing without a success since 2026-03-02T01:02:03+00:00", "không lần nào thành công từ 02/03/2026 08:02"),
        ("HTTP 410: Gone", "Máy nhận trả lời mã 410: Gone"),
        ("HTTP 410: gone, which subscription 7 has", "địa chỉ mới đã thuộc người nhận #7"),
        ("something new", "Chi tiết: something new"),
    ],
)
def test_reasons_are_words(reason: str, words: str) -> None:
    assert words in reason_words(reason)


def test_errors_and_answers_are_words() -> None:
    assert error_words("BANTIN_SMTP_HOST is not set") == "Chưa cấu hình máy chủ thư (BANTIN_SMTP_HOST)."
    assert error_words("subscription disabled: paused by an admin") == "Người nhận đã bị tắt: Quản trị viên tạm dừng"
    assert error_words("egress denied: 10.0.0.1 is private").startswith("Địa chỉ nhận bị chặn")
    assert answer_words(250) == "Máy chủ thư đã nhận"
    assert answer_words(204) == "Đã nhận (mã 204)" and answer_words(503) == "Bị từ chối (mã 503)"
    assert answer_words(None) == reason_words(None) == error_words(None) == ""


def test_every_registered_kind_has_a_label_in_both_languages() -> None:
    register_all()
    assert kind_label("reader.confirm") == "Thư xác nhận đăng ký"
    assert kind_label("article.withdrawn") == "Bài bị gỡ"
    assert kind_label("no.such.kind") == "no.such.kind"
    for name, kind in _kinds.items():
        assert kind.label, f"{name} has no label"
        with use_language("en"):
            english = kind_label(name)
        assert english != kind_label(name), f"{name}'s label is not translated"
