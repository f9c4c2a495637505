"""The article form: posted fields → the API's own schemas, and errors by field in the request's
language, worded by their codes (``service.web.refusals``).

The console adds rules of its own for the publication time (decision 0026): "schedule"
needs a time in the future (the API takes a past ``publish_at`` as back-dating, which a
person pressing "Hẹn giờ" never means); the field shows the stored time as its value, so
a field left as it was keeps that time; and "publish now" with a different time typed in
is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from config.settings import get_settings
from service.articles.alt_text import image_alts
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.console.templating import local_time
from service.console.times import parse_local_time
from service.db.models import Article
from service.errors import InvalidField, field_errors
from service.i18n import N_, gettext
from service.web.refusals import refusal, words

TEXT_FIELDS = (
    "title",
    "summary",
    "categories",
    "author",
    "source_name",
    "source_url",
    "image_url",
    "image_alt",
    "body_html",
)
# "submit" saves a draft and sends it for review in the same transaction; "save" keeps the
# article's status (an editor's correction of a submission; a writer's change to a scheduled
# article, which the policy sends back to review).
ACTIONS = ("draft", "submit", "publish", "schedule", "save")
# The statuses whose time is a time to come: scheduled, or meant for (drafts, submissions).
PLANNED_STATUSES = ("draft", "pending_review", "scheduled")


def filter_error(value: str, choices: Collection[str]) -> str | None:
    """None when a list filter's ``value`` is empty (everything) or one of ``choices``; else the message shown by it.

    A hand-edited address with an unknown filter (``?status=bogus``) is refused rather than
    ignored: showing everything would look like the filter had worked.
    """
    if not value or value in choices:
        return None
    return gettext("“%(value)s” không phải một lựa chọn của bộ lọc này; hãy chọn trong danh sách.", value=value)


def parse_schedule(raw: str, now: datetime, required: bool = True) -> tuple[datetime | None, str | None]:
    """A future local "dd/mm/yyyy HH:mm" as an aware datetime, or the message saying what is wrong
    (service.console.times: a day that does not exist is named as such)."""
    raw = raw.strip()
    if not raw:
        return None, (gettext("Nhập ngày giờ đăng, dạng dd/mm/yyyy HH:mm.") if required else None)
    when, error = parse_local_time(raw, get_settings().zone)
    if when is None:
        return None, error
    if when <= now:
        return None, gettext("Thời điểm hẹn giờ đã qua; chọn một thời điểm trong tương lai.")
    return when, None


TYPED_BUT_NOW = N_(
    "Bạn đã nhập thời điểm đăng %(when)s nhưng chọn đăng ngay. Để đăng vào lúc đó, hãy bấm nút hẹn giờ; "
    "để đăng ngay, hãy xóa thời điểm này."
)


def is_stored(raw: str, stored: datetime | None) -> bool:
    """Whether the time field still shows the stored time (it is shown as its value, dd/mm/yyyy HH:mm)."""
    return stored is not None and raw.strip() == local_time(stored)


def refuse_typed_time_for_now(raw: str, stored: datetime | None) -> str | None:
    """The message when a person typed a time and then chose "publish now": which one they
    meant is unclear, so nothing is published; None when the field is empty or unchanged."""
    if raw.strip() and not is_stored(raw, stored):
        return gettext(TYPED_BUT_NOW, when=raw.strip())
    return None


@dataclass
class ArticleForm:
    """What the editor shows: the typed values, the chosen action and any errors by field.

    ``has_time``: the form carried the publication time field (editors' forms do; a writer's
    has none, so saving it never changes the time an article is meant for).
    ``chosen``: the existing categories ticked in the list; ``values["categories"]`` holds
    the names typed as new ones (comma-separated), which creates them where the desk allows
    (BANTIN_NEW_CATEGORIES_BY) and is simply that category when one already has the name.
    """

    values: dict[str, str] = field(default_factory=dict)
    action: str = "draft"
    errors: dict[str, str] = field(default_factory=dict)
    has_time: bool = True
    chosen: list[str] = field(default_factory=list)
    # The addresses of the body's images refused for lacking their words (decision 0034):
    # the editor marks each one next to its alt field.
    lacking_alt: list[str] = field(default_factory=list)

    def image_alts(self) -> dict[str, str]:
        """The alts of the body as loaded or posted, by image address (for the editor's script)."""
        return image_alts(self.values.get("body_html", ""))

    def refuse(self, refused: InvalidField) -> None:
        """A refusal of the domain's (an image without its words) shown by its field."""
        self.errors[refused.field] = words(refused.code, refused.params, refused.message)
        if refused.code == "image_alt_missing":
            self.lacking_alt = list(refused.params["images"])

    @classmethod
    def of(cls, article: Article) -> ArticleForm:
        """The editor filled from a stored article, its time shown as the field's value."""
        values = {
            "title": article.title,
            "summary": article.summary or "",
            "categories": "",
            "author": article.author or "",
            "source_name": article.source_name or "",
            "source_url": article.source_url or "",
            "image_url": article.image_url or "",
            "image_alt": article.image_alt or "",
            "body_html": article.body_html,
            # The time an article is scheduled for, or meant for (a draft drafted from the
            # calendar, a submission carrying it): the field's value, never a placeholder.
            "publish_at": local_time(article.publish_at) if article.status in PLANNED_STATUSES else "",
        }
        chosen = [c.name for c in article.categories]
        return cls(values, "schedule" if article.status == "scheduled" else "draft", chosen=chosen)

    @classmethod
    def posted(cls, form: dict[str, str], chosen: list[str] | None = None) -> ArticleForm:
        """The editor as submitted: text fields and publish_at (missing ones empty), the ticked
        ``category`` boxes (a repeated field, read apart); an unknown action is draft."""
        values = {name: form.get(name, "") for name in (*TEXT_FIELDS, "publish_at")}
        action = form.get("action", "draft")
        ticked = [name for name in (chosen or []) if name.strip()]
        return cls(values, action if action in ACTIONS else "draft", has_time="publish_at" in form, chosen=ticked)

    def _fields(self, now: datetime, stored: datetime | None) -> dict[str, Any]:
        data: dict[str, Any] = {name: self.values[name] for name in TEXT_FIELDS}
        typed = [c for c in (p.strip() for p in self.values["categories"].split(",")) if c]
        data["categories"] = [*self.chosen, *typed]
        for optional in ("summary", "author", "source_name", "source_url", "image_url", "image_alt"):
            data[optional] = data[optional] or None
        if self.action in ("draft", "submit"):
            data["status"] = "draft"
        elif self.action in ("publish", "schedule"):
            data["status"] = "published"
        # "save" leaves the status to the article and the editorial policy.
        raw = self.values["publish_at"] if self.has_time else None
        changed, when = self._time(raw, stored, now)
        if changed:
            data["publish_at"] = when
        return data

    def _time(self, raw: str | None, stored: datetime | None, now: datetime) -> tuple[bool, datetime | None]:
        """(whether the time changes, the new one) for this action; errors go to ``errors``.

        The field shows the stored time, so an unchanged field keeps it (even one that has
        passed), an emptied one clears it, and a changed one must be in the future. "publish"
        publishes now (refused when a different time was typed: which was meant?);
        "schedule" needs a future time. Without the field (a writer's form) the time stays.
        """
        error: str | None = None
        if self.action == "publish":
            error = refuse_typed_time_for_now(raw or "", stored)
            result: tuple[bool, datetime | None] = (True, None)
        elif self.action == "schedule":
            when, error = parse_schedule(raw or "", now)
            result = (True, when)
        elif raw is None or is_stored(raw, stored):
            result = (False, stored)
        elif not raw.strip():
            result = (stored is not None, None)
        else:
            when, error = parse_schedule(raw, now)
            result = (True, when)
        if error:
            self.errors["publish_at"] = error
        return result

    def _validate(
        self, schema: type[ArticleCreate] | type[ArticleUpdate], now: datetime, stored: datetime | None
    ) -> Any:
        data = self._fields(now, stored)
        if schema is ArticleCreate:
            data.setdefault("status", "draft")
        try:
            parsed = schema.model_validate(data)
        except ValidationError as exc:
            # Each refusal by its code, in the request's language (service.web.refusals).
            for error in field_errors(list(exc.errors())):
                name = error.field.split(".")[0]
                self.errors.setdefault(name if name in self.values else "title", refusal(error))
            return None
        return None if self.errors else parsed

    def ordered_errors(self) -> list[tuple[str, str]]:
        """Errors in the order the fields appear on the page, for the summary at the top."""
        order = [*TEXT_FIELDS, "publish_at"]
        return sorted(self.errors.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0)

    def to_create(self, now: datetime) -> ArticleCreate | None:
        """The API's create schema, or None with ``errors`` filled."""
        return self._validate(ArticleCreate, now, None)  # type: ignore[no-any-return]

    def to_update(self, now: datetime, stored: datetime | None) -> ArticleUpdate | None:
        """A full update of the text fields, and of the time when it changes (``stored``: the
        article's ``publish_at``), or None with ``errors`` filled."""
        return self._validate(ArticleUpdate, now, stored)  # type: ignore[no-any-return]
