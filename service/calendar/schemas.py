"""Key dates as admins and the seed file describe them, validated field by field."""

from __future__ import annotations

import calendar as gregorian
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from service.calendar import lunar
from service.calendar.text import check_templates
from service.db.models import KeyDate
from service.errors import invalid
from service.inputs import MAX_BIGINT
from service.merge_patch import MergePatch
from service.subscriptions.schemas import Channel
from service.text import clean_line, remove_invisible, remove_xml_forbidden, slugify_vi

CHANNEL_NAMES: tuple[str, ...] = get_args(Channel)
DEFAULT_OFFSETS = (30, 7, 1, 0)
DEFAULT_SEND_TIME = "08:00"
MAX_NAME = 300
HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_TEMPLATE_CHARS = 2000


def _name(value: str) -> str:
    value = clean_line(value)
    if not value:
        raise invalid("empty")
    if len(value) > MAX_NAME:
        raise invalid("longer_than", limit=MAX_NAME)
    return value


def _offsets(values: list[int]) -> list[int]:
    for value in values:
        if not 0 <= value <= 366:
            raise invalid("offset_range", value=value)
    return sorted(set(values), reverse=True)


def _send_time(value: str) -> str:
    if not HH_MM.match(value):
        raise invalid("not_time")
    return value


def _events_to(value: dict[str, Any]) -> dict[str, Any]:
    unknown = set(value) - {"channels", "subscription_ids"}
    if unknown:
        raise invalid("unknown_keys", unknown=", ".join(sorted(unknown)))
    channels = value.get("channels", [])
    ids = value.get("subscription_ids", [])
    if not isinstance(channels, list) or not all(c in CHANNEL_NAMES for c in channels):
        raise invalid("channel_list", choices=", ".join(CHANNEL_NAMES))
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_BIGINT for i in ids
    ):
        # Checked here, not at send time: an id the database cannot hold would fail every tick.
        raise invalid("id_list", limit=MAX_BIGINT)
    return {k: v for k, v in (("channels", channels), ("subscription_ids", ids)) if v}


def _templates(value: dict[str, str]) -> dict[str, str]:
    unknown = set(value) - {"vi", "en"}
    if unknown:
        raise invalid("unknown_locales", unknown=", ".join(sorted(unknown)))
    for locale, source in value.items():
        if len(source) > MAX_TEMPLATE_CHARS:
            # Compiling costs in proportion to the source (decision 0030); a reminder is a sentence.
            raise invalid("template_too_long", locale=locale, limit=MAX_TEMPLATE_CHARS)
    return {locale: remove_invisible(remove_xml_forbidden(source)) for locale, source in value.items()}


Name = Annotated[str, AfterValidator(_name)]
Offsets = Annotated[list[int], AfterValidator(_offsets)]
SendTime = Annotated[str, AfterValidator(_send_time)]
EventsTo = Annotated[dict[str, Any], AfterValidator(_events_to)]
Templates = Annotated[dict[str, str], AfterValidator(_templates)]
Tags = Annotated[list[str], AfterValidator(lambda tags: [t for t in (clean_line(x) for x in tags) if t])]


def check_date(calendar: str, day: int, month: int, leap_month: bool, origin_year: int | None) -> None:
    """A day that no year has, or that the origin year did not have, is refused."""
    if not 1 <= month <= 12:
        raise invalid("month_range", error_type="month", field="month")
    if calendar == "solar":
        if leap_month:
            raise invalid("solar_leap_month", error_type="leap_month", field="leap_month")
        year = origin_year if origin_year is not None else 2000  # a leap year admits 29 February
        last = gregorian.monthrange(year, month)[1]
        if not 1 <= day <= last:
            where = f"{month}/{origin_year}" if origin_year is not None else f"month {month}"
            raise invalid("solar_day", error_type="day", field="day", day=day, where=where, last=last)
        return
    if not 1 <= day <= 30:
        raise invalid("lunar_day", error_type="day", field="day")
    if origin_year is None:
        return
    if origin_year not in lunar.SUPPORTED_YEARS:
        raise invalid("lunar_years", error_type="origin_year", field="origin_year")
    if leap_month and not lunar.has_leap_month(origin_year, month):
        raise invalid("no_leap_month", error_type="leap_month", field="leap_month", year=origin_year, month=month)
    if day == 30 and lunar.month_length(origin_year, month, leap_month) == 29:
        raise invalid("lunar_day_30", error_type="day", field="day", month=month, year=origin_year)


def check_key_date_templates(key_date: KeyDate) -> None:
    """The key date's templates render for every offset (`check_templates`), or a 422 on ``templates``."""
    try:
        check_templates(key_date)
    except ValueError as exc:
        raise invalid("template", error_type="template", field="templates", reason=str(exc)) from None


class KeyDateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: Name
    name_en: Name | None = None
    calendar: Literal["solar", "lunar"]
    day: int
    month: int
    leap_month: bool = False
    origin_year: int | None = Field(None, ge=1, le=9999)
    scope: Literal["national", "local"] = "national"
    tags: Tags = Field(default_factory=list)
    offsets: Offsets = Field(default_factory=lambda: list(DEFAULT_OFFSETS))
    send_time: SendTime = DEFAULT_SEND_TIME
    events_to: EventsTo = Field(default_factory=dict)
    templates: Templates = Field(default_factory=dict)
    active: bool = True

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not ID_PATTERN.match(value):
            raise invalid("key_date_id")
        return value

    @model_validator(mode="after")
    def _valid_date(self) -> KeyDateIn:
        check_date(self.calendar, self.day, self.month, self.leap_month, self.origin_year)
        if self.id is None:
            self.id = slugify_vi(self.name, max_length=80) or "ngay"
        check_key_date_templates(KeyDate(**self.model_dump()))
        return self


class KeyDateUpdate(MergePatch):
    """PATCH: the fields sent change; the date is checked again as a whole."""

    CLEARABLE = frozenset({"name_en", "origin_year"})

    name: Name | None = None
    name_en: Name | None = None
    calendar: Literal["solar", "lunar"] | None = None
    day: int | None = None
    month: int | None = None
    leap_month: bool | None = None
    origin_year: int | None = Field(None, ge=1, le=9999)
    scope: Literal["national", "local"] | None = None
    tags: Tags | None = None
    offsets: Offsets | None = None
    send_time: SendTime | None = None
    events_to: EventsTo | None = None
    templates: Templates | None = None
    active: bool | None = None
