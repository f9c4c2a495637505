"""What staff send to create or change an article, validated field by field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from config.settings import get_settings
from service.errors import invalid, too_large
from service.inputs import Instant
from service.merge_patch import MergePatch
from service.text import (
    clean_line,
    clean_text,
    has_invisible,
    has_visible_content,
    has_xml_forbidden,
    plain_text_from_html,
    sanitize_html,
    slugify_vi,
)

MAX_CATEGORIES = 20
MAX_CATEGORY_NAME = 100
MAX_NAME = 200
MAX_URL = 2000
MAX_CAPTION = 300


def _title(value: str) -> str:
    value = clean_line(value)
    if not value:
        raise invalid("empty")
    limit = get_settings().title_max_chars
    if len(value) > limit:
        raise invalid("too_long", length=len(value), limit=limit)
    return value


def _body(value: str) -> str:
    """The sanitised body; refused when too large, or when sanitising leaves nothing to read."""
    size = len(value.encode("utf-8"))
    limit = get_settings().body_max_bytes
    if size > limit:
        raise too_large(size, limit)
    if not value.strip():
        raise invalid("empty")
    body = sanitize_html(value)
    if not has_visible_content(body):
        raise invalid("no_visible_content")
    return body


def _optional_line(value: str | None, limit: int = MAX_NAME) -> str | None:
    if value is None:
        return None
    value = clean_line(value)
    if len(value) > limit:
        raise invalid("too_long", length=len(value), limit=limit)
    return value or None


def _optional_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_URL:
        raise invalid("longer_than", limit=MAX_URL)
    if has_xml_forbidden(value) or has_invisible(value) or any(c.isspace() for c in value):
        raise invalid("url_characters")
    if not value.startswith(("http://", "https://")) or len(value.split("/", 3)[2]) == 0:
        raise invalid("not_absolute_url")
    return value


def _categories(values: list[str]) -> list[str]:
    if len(values) > MAX_CATEGORIES:
        raise invalid("too_many", count=len(values), limit=MAX_CATEGORIES)
    names: dict[str, str] = {}
    for position, raw in enumerate(values):
        name = clean_line(raw)
        if not name:
            raise invalid("entry_empty", position=position)
        if len(name) > MAX_CATEGORY_NAME:
            raise invalid("entry_too_long", position=position, limit=MAX_CATEGORY_NAME)
        slug = slugify_vi(name)
        if not slug:
            raise invalid("entry_no_slug", position=position, name=name)
        names.setdefault(slug, name)  # "Xây dựng Đảng" and "xây dựng đảng" are one category
    return list(names.values())


def _summary(value: str | None) -> str | None:
    if value is None or not clean_text(value):
        return None  # blank clears it
    summary = plain_text_from_html(value)
    if not summary:
        raise invalid("no_visible_text")
    limit = get_settings().summary_max_chars
    if len(summary) > limit:
        raise invalid("too_long", length=len(summary), limit=limit)
    return summary


Title = Annotated[str, AfterValidator(_title)]
BodyHtml = Annotated[str, AfterValidator(_body)]
Categories = Annotated[list[str], AfterValidator(_categories)]
OptionalUrl = Annotated[str | None, AfterValidator(_optional_url)]
OptionalName = Annotated[str | None, AfterValidator(_optional_line)]
Caption = Annotated[str | None, AfterValidator(lambda value: _optional_line(value, MAX_CAPTION))]
Summary = Annotated[str | None, AfterValidator(_summary)]


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    body_html: BodyHtml
    summary: Summary = None
    categories: Categories = Field(default_factory=list)
    author: OptionalName = None
    image_url: OptionalUrl = None
    image_caption: Caption = None
    image_alt: Caption = None
    source_name: OptionalName = None
    source_url: OptionalUrl = None
    status: Literal["published", "draft"] = "published"
    publish_at: Instant | None = None


class ArticleUpdate(MergePatch):
    """PATCH: only the fields present change; ``null`` clears an optional field."""

    CLEARABLE = frozenset(
        {"summary", "author", "image_url", "image_caption", "image_alt", "source_name", "source_url", "publish_at"}
    )

    title: Title | None = None
    body_html: BodyHtml | None = None
    summary: Summary = None
    categories: Categories | None = None
    author: OptionalName = None
    image_url: OptionalUrl = None
    image_caption: Caption = None
    image_alt: Caption = None
    source_name: OptionalName = None
    source_url: OptionalUrl = None
    status: Literal["published", "draft"] | None = None
    publish_at: Instant | None = None
