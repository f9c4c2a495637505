"""What staff send to create or change an article, validated field by field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from config.settings import get_settings
from service.errors import TOO_LARGE
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
        raise ValueError("must not be empty")
    limit = get_settings().title_max_chars
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long; the limit is {limit}")
    return value


def _body(value: str) -> str:
    """The sanitised body; refused when too large, or when sanitising leaves nothing to read."""
    size = len(value.encode("utf-8"))
    limit = get_settings().body_max_bytes
    if size > limit:
        raise PydanticCustomError(
            TOO_LARGE, "is {size} bytes; the limit is {limit} bytes", {"size": size, "limit": limit}
        )
    if not value.strip():
        raise ValueError("must not be empty")
    body = sanitize_html(value)
    if not has_visible_content(body):
        raise ValueError(
            "has no visible content once sanitised (scripts, styles, comments and empty tags are"
            " removed): send text or an image"
        )
    return body


def _optional_line(value: str | None, limit: int = MAX_NAME) -> str | None:
    if value is None:
        return None
    value = clean_line(value)
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long; the limit is {limit}")
    return value or None


def _optional_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_URL:
        raise ValueError(f"is longer than {MAX_URL} characters")
    if has_xml_forbidden(value) or has_invisible(value) or any(c.isspace() for c in value):
        raise ValueError("must not contain spaces, control characters or invisible formatting characters")
    if not value.startswith(("http://", "https://")) or len(value.split("/", 3)[2]) == 0:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


def _categories(values: list[str]) -> list[str]:
    if len(values) > MAX_CATEGORIES:
        raise ValueError(f"has {len(values)} entries; the limit is {MAX_CATEGORIES}")
    names: dict[str, str] = {}
    for position, raw in enumerate(values):
        name = clean_line(raw)
        if not name:
            raise ValueError(f"entry {position} is empty")
        if len(name) > MAX_CATEGORY_NAME:
            raise ValueError(f"entry {position} is longer than {MAX_CATEGORY_NAME} characters")
        slug = slugify_vi(name)
        if not slug:
            raise ValueError(f"entry {position} ({name!r}) has no letters or digits to make a slug from")
        names.setdefault(slug, name)  # "Xây dựng Đảng" and "xây dựng đảng" are one category
    return list(names.values())


def _summary(value: str | None) -> str | None:
    if value is None or not clean_text(value):
        return None  # blank clears it
    summary = plain_text_from_html(value)
    if not summary:
        raise ValueError("has no visible text once markup, scripts and comments are removed")
    limit = get_settings().summary_max_chars
    if len(summary) > limit:
        raise ValueError(f"is {len(summary)} characters long; the limit is {limit}")
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
    source_name: OptionalName = None
    source_url: OptionalUrl = None
    status: Literal["published", "draft"] = "published"
    publish_at: Instant | None = None


class ArticleUpdate(MergePatch):
    """PATCH: only the fields present change; ``null`` clears an optional field."""

    CLEARABLE = frozenset(
        {"summary", "author", "image_url", "image_caption", "source_name", "source_url", "publish_at"}
    )

    title: Title | None = None
    body_html: BodyHtml | None = None
    summary: Summary = None
    categories: Categories | None = None
    author: OptionalName = None
    image_url: OptionalUrl = None
    image_caption: Caption = None
    source_name: OptionalName = None
    source_url: OptionalUrl = None
    status: Literal["published", "draft"] | None = None
    publish_at: Instant | None = None
