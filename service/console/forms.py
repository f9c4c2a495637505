"""The article form: posted fields → the API's own schemas, and errors by field in the request's language.

The console adds one rule of its own: "schedule" needs a time in the future (the API
takes a past ``publish_at`` as back-dating, which a person pressing "Hẹn giờ" never means).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from config.settings import get_settings
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.console.templating import LOCAL_FORMAT, local_time
from service.db.models import Article
from service.errors import validation_items
from service.i18n import N_, gettext

TEXT_FIELDS = ("title", "summary", "categories", "author", "source_name", "source_url", "image_url", "body_html")
# "submit" saves a draft and sends it for review in the same transaction.
ACTIONS = ("draft", "submit", "publish", "schedule")

# The domain's messages are English; these are the ones staff meet in the form, worded for
# them in Vietnamese (and translated back through the catalogue on an English page).
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^must not be empty$"), N_("Không được để trống.")),
    (re.compile(r"^Field required$"), N_("Không được để trống.")),
    (
        re.compile(r"^is (?P<length>\d+) characters long; the limit is (?P<limit>\d+)$"),
        N_("Dài %(length)s ký tự; tối đa %(limit)s ký tự."),
    ),
    (
        re.compile(r"^is (?P<length>\d+) bytes; the limit is (?P<limit>\d+) bytes$"),
        N_("Dài %(length)s byte; tối đa %(limit)s byte."),
    ),
    (
        re.compile(r"^must be an absolute http:// or https:// URL$"),
        N_("Phải là địa chỉ đầy đủ bắt đầu bằng http:// hoặc https://."),
    ),
    (re.compile(r"^must not contain spaces or control characters$"), N_("Không được chứa khoảng trắng.")),
    (
        re.compile(r"^has (?P<length>\d+) entries; the limit is (?P<limit>\d+)$"),
        N_("Có %(length)s chuyên mục; tối đa %(limit)s."),
    ),
]


def field_message(message: str) -> str:
    """A domain field message (English) as staff read it, in the request's language; unchanged if none matches."""
    for pattern, text in _MESSAGES:
        if match := pattern.match(message):
            return gettext(text, **match.groupdict())
    return message


def filter_error(value: str, choices: Collection[str]) -> str | None:
    """None when a list filter's ``value`` is empty (everything) or one of ``choices``; else the message shown by it.

    A hand-edited address with an unknown filter (``?status=bogus``) is refused rather than
    ignored: showing everything would look like the filter had worked.
    """
    if not value or value in choices:
        return None
    return gettext("“%(value)s” không phải một lựa chọn của bộ lọc này; hãy chọn trong danh sách.", value=value)


def parse_schedule(raw: str, now: datetime, required: bool = True) -> tuple[datetime | None, str | None]:
    """A future local "dd/mm/yyyy HH:mm" as an aware datetime, or the message saying what is wrong."""
    raw = raw.strip()
    if not raw:
        return None, (gettext("Nhập ngày giờ đăng, dạng dd/mm/yyyy HH:mm.") if required else None)
    try:
        when = datetime.strptime(raw, LOCAL_FORMAT).replace(tzinfo=get_settings().zone)
    except ValueError:
        return None, gettext("“%(raw)s” không phải ngày giờ dạng dd/mm/yyyy HH:mm.", raw=raw)
    if when <= now:
        return None, gettext("Thời điểm hẹn giờ đã qua; chọn một thời điểm trong tương lai.")
    return when, None


@dataclass
class ArticleForm:
    """What the editor shows: the typed values, the chosen action and any errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    action: str = "draft"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, article: Article) -> ArticleForm:
        """The editor filled from a stored article; a scheduled one keeps its action and local publish time."""
        values = {
            "title": article.title,
            "summary": article.summary or "",
            "categories": ", ".join(c.name for c in article.categories),
            "author": article.author or "",
            "source_name": article.source_name or "",
            "source_url": article.source_url or "",
            "image_url": article.image_url or "",
            "body_html": article.body_html,
            # A draft may carry the time it is meant for (one drafted from the calendar does):
            # shown in the schedule field, so "Hẹn giờ đăng" takes it as it is.
            "publish_at": local_time(article.publish_at) if article.status in ("scheduled", "draft") else "",
        }
        return cls(values, "schedule" if article.status == "scheduled" else "draft")

    @classmethod
    def posted(cls, form: dict[str, str]) -> ArticleForm:
        """The editor as submitted: text fields and publish_at (missing ones empty); an unknown action is draft."""
        values = {name: form.get(name, "") for name in (*TEXT_FIELDS, "publish_at")}
        action = form.get("action", "draft")
        return cls(values, action if action in ACTIONS else "draft")

    def _fields(self, now: datetime) -> dict[str, Any]:
        data: dict[str, Any] = {name: self.values[name] for name in TEXT_FIELDS}
        data["categories"] = [c for c in (p.strip() for p in self.values["categories"].split(",")) if c]
        for optional in ("summary", "author", "source_name", "source_url", "image_url"):
            data[optional] = data[optional] or None
        data["status"] = "draft" if self.action in ("draft", "submit") else "published"
        data["publish_at"] = None
        if self.action == "schedule":
            data["publish_at"] = self._schedule_time(now)
        elif data["status"] == "draft":
            # A draft keeps the future time typed for it (its intended publication), never a
            # past one: publishing it later would back-date it. Publishing now clears it.
            data["publish_at"] = parse_schedule(self.values["publish_at"], now, required=False)[0]
        return data

    def _schedule_time(self, now: datetime) -> datetime | None:
        when, error = parse_schedule(self.values["publish_at"], now)
        if error:
            self.errors["publish_at"] = error
        return when

    def _validate(self, schema: type[ArticleCreate] | type[ArticleUpdate], now: datetime) -> Any:
        data = self._fields(now)
        try:
            parsed = schema.model_validate(data)
        except ValidationError as exc:
            for item in validation_items(list(exc.errors())):
                name = item["field"].split(".")[0]
                self.errors.setdefault(name if name in self.values else "title", field_message(item["message"]))
            return None
        return None if self.errors else parsed

    def ordered_errors(self) -> list[tuple[str, str]]:
        """Errors in the order the fields appear on the page, for the summary at the top."""
        order = [*TEXT_FIELDS, "publish_at"]
        return sorted(self.errors.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0)

    def to_create(self, now: datetime) -> ArticleCreate | None:
        """The API's create schema, or None with ``errors`` filled."""
        return self._validate(ArticleCreate, now)  # type: ignore[no-any-return]

    def to_update(self, now: datetime) -> ArticleUpdate | None:
        """A full update (every field of the form), or None with ``errors`` filled."""
        return self._validate(ArticleUpdate, now)  # type: ignore[no-any-return]
