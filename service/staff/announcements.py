"""What staff are told, as announcement kinds (decision 0032, decision 0042).

- ``staff.review_requested``: an article waits at a stage (its holders; on submission the
  first stage's, on an approval the next stage's);
- ``staff.review_returned``: the writer's article came back, with the reviewer's comment;
- ``staff.article_approved``: the writer's article passed the last stage: published, or
  scheduled for its time (the payload's ``publish_at``);
- ``staff.reminder``: an anniversary is near and no article is drafted for it.

The payload is written when planned (titles and names as they were then); each message
links to the console page where the person acts. No preferences link (a staff address is
changed in the console, not by a reader's link).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from config.settings import Settings
from service.announcements.compose import lines_words
from service.announcements.kinds import Kind, Recipient
from service.announcements.message import AnnouncementText
from service.i18n import N_, gettext
from service.urls import with_path

REVIEW_REQUESTED = "staff.review_requested"
REVIEW_RETURNED = "staff.review_returned"
ARTICLE_APPROVED = "staff.article_approved"
REMINDER = "staff.reminder"


def _url(payload: Mapping[str, Any], settings: Settings) -> str:
    return with_path(settings.base_url, str(payload["path"]))


def _stage(payload: Mapping[str, Any]) -> str:
    """The stage's name: a stored name, or the default stage's msgid, in the current language."""
    return gettext(str(payload["stage"])) if payload.get("stage_is_msgid") else str(payload["stage"])


def requested_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                    now: datetime) -> AnnouncementText:  # fmt: skip
    """ "Bài chờ duyệt (<stage>): <title>", who sent it, and the review page."""
    stage, title = _stage(payload), str(payload["title"])
    lines = [gettext("%(writer)s gửi bài; bài đang chờ bước “%(stage)s”.", writer=payload["writer"], stage=stage)]
    if payload.get("approved_by"):
        lines.append(gettext("Bước trước do %(name)s duyệt.", name=payload["approved_by"]))
    return lines_words(gettext("Bài chờ duyệt (%(stage)s): %(title)s", stage=stage, title=title), lines,
                       _url(payload, settings))  # fmt: skip


def returned_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                   now: datetime) -> AnnouncementText:  # fmt: skip
    """ "Bài bị trả lại: <title>", who returned it and their comment, and the editor."""
    lines = [gettext("%(name)s trả lại bài, ghi chú:", name=payload["by"]), str(payload["comment"])]
    return lines_words(gettext("Bài bị trả lại: %(title)s", title=payload["title"]), lines, _url(payload, settings))


def approved_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                   now: datetime) -> AnnouncementText:  # fmt: skip
    """ "Bài đã đăng: <title>", or "Bài đã duyệt, hẹn đăng <time>: <title>"."""
    title, when = str(payload["title"]), payload.get("publish_at")
    if when:
        local = f"{datetime.fromisoformat(str(when)).astimezone(settings.zone):%H:%M %d/%m/%Y}"
        subject = gettext("Bài đã duyệt, hẹn đăng %(when)s: %(title)s", when=local, title=title)
    else:
        subject = gettext("Bài đã đăng: %(title)s", title=title)
    lines = [gettext("%(name)s duyệt bước cuối.", name=payload["by"])]
    return lines_words(subject, lines, _url(payload, settings))


def reminder_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                   now: datetime) -> AnnouncementText:  # fmt: skip
    """ "Còn 7 ngày: <key date> — chưa có bài", the date, and the calendar page."""
    subject = gettext("Còn %(days)s ngày: %(name)s — chưa có bài", days=payload["days"], name=payload["name"])
    lines = [gettext("Ngày %(date)s. Mở lịch để soạn bài cho dịp này.", date=payload["date"])]
    return lines_words(subject, lines, _url(payload, settings))


KINDS = (
    Kind(REVIEW_REQUESTED, requested_words, preferences_link=False, label=N_("Báo bài chờ duyệt")),
    Kind(REVIEW_RETURNED, returned_words, preferences_link=False, label=N_("Báo bài bị trả lại")),
    Kind(ARTICLE_APPROVED, approved_words, preferences_link=False, label=N_("Báo bài đã duyệt")),
    Kind(REMINDER, reminder_words, preferences_link=False, label=N_("Nhắc ngày kỷ niệm chưa có bài")),
)
