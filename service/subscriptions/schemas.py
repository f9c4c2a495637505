"""What admins send to create or change a subscription."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from service.errors import invalid
from service.inputs import Categories
from service.merge_patch import MergePatch
from service.text import has_invisible, has_xml_forbidden

Channel = Literal["webhook", "email", "telegram", "slack", "discord", "teams", "zalo", "facebook", "apprise"]
EventName = Literal["article.published", "article.updated", "article.withdrawn", "reminder.due"]
MAX_OPTIONS_BYTES = 4096
MAX_TARGET = 2000
# Targets are looked up through a btree index on (channel, target); PostgreSQL refuses an
# index entry over about 2,700 bytes, so the limit is on UTF-8 bytes as well as characters.
MAX_TARGET_BYTES = 2000


def _events(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _target(value: str) -> str:
    value = value.strip()
    if not value:
        raise invalid("empty")
    if len(value) > MAX_TARGET:
        raise invalid("longer_than", limit=MAX_TARGET)
    if len(value.encode("utf-8")) > MAX_TARGET_BYTES:
        raise invalid("longer_than_bytes", limit=MAX_TARGET_BYTES)
    if has_xml_forbidden(value):
        raise invalid("control_characters")
    if has_invisible(value):
        # A URL, address or chat id never needs one; in a target it can only hide what is called.
        raise invalid("invisible_characters")
    return value


def _options(value: dict[str, Any]) -> dict[str, Any]:
    document = json.dumps(value, ensure_ascii=False)
    if len(document.encode()) > MAX_OPTIONS_BYTES:
        raise invalid("larger_than_bytes", limit=MAX_OPTIONS_BYTES)
    if any(has_xml_forbidden(text) for text in _strings(value)):
        raise invalid("control_characters")
    return value


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (str(key), *_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


Events = Annotated[list[EventName], AfterValidator(_events)]
Target = Annotated[str, AfterValidator(_target)]
Options = Annotated[dict[str, Any], AfterValidator(_options)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    target: Target
    events: Events = Field(default_factory=list)
    categories: Categories = Field(default_factory=list)
    locale: Literal["vi", "en"] = "vi"
    options: Options = Field(default_factory=dict)


class SubscriptionUpdate(MergePatch):
    """PATCH; ``status`` is ``active`` or ``paused`` (re-activating clears a disabled state); no field is cleared."""

    target: Target | None = None
    events: Events | None = None
    categories: Categories | None = None
    locale: Literal["vi", "en"] | None = None
    options: Options | None = None
    status: Literal["active", "paused"] | None = None
