"""The value types every input shares: API bodies, path and query parameters, CLI options.

One definition each, so a bound is the same wherever a value enters:

- ``RowId``: a row id, 1 … 2⁶³−1 (PostgreSQL ``bigint``; SQLite's ``INTEGER`` is the same
  64 bits). A larger number cannot name a row, and handed to the driver it raises.
- ``DeliveryId``, ``Slug``, ``KeyDateId``: the only forms these names take, so nothing
  else (a NUL byte, which PostgreSQL refuses in text) reaches a query.
- ``Offset``, ``Limit``: pagination; ``Limit`` is what one answer may carry.
- ``PageNumber``: a page of a console list, 1 … 100,000; the page size times it stays an
  ``Offset`` (a 21-digit page number overflowed the driver: issue 18, item 12).
- ``SearchText``: words typed to search a list, at most 200 characters, no control
  characters (PostgreSQL refuses a NUL byte in text).
- ``Days``, ``Year``: calendar look-ahead and years the lunar calendar is computed for.
- ``Categories``: category names or slugs as a subscriber chooses them, made slugs
  (``slugify_vi``), each once, in the order given.
- ``SubscriberTarget``: whom a personal-data request is about (an e-mail address, a
  Telegram chat id, a Zalo follower id): trimmed, 1 … 2,000 characters, no control
  characters (a NUL byte would make PostgreSQL refuse the query).
- ``Instant``: an ISO 8601 date-time. Without a zone it means ``BANTIN_TIMEZONE`` local
  time (what a person in the newsroom means); it must fall in 1970 … 2199 (UTC), where
  zone rules are modern and Python's datetime arithmetic cannot overflow. Text (or a
  datetime from our own code), never a number: pydantic would read 12345 as seconds
  since 1970, a JSON type the API does not document.

``service.cli.common.parser_for`` turns any of them into a CLI option parser, so the CLI
parses options with the very validator the API uses.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from annotated_types import Interval
from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

from config.settings import get_settings
from service.calendar.lunar import SUPPORTED_YEARS
from service.errors import invalid
from service.text import clean_line, slugify_vi

MAX_BIGINT = 2**63 - 1
MAX_PAGE = 500
MAX_UPCOMING_DAYS = 800
MAX_TARGET = 2000
# Deeper than anyone pages by hand; at the console's 25 a page, still far inside an Offset.
MAX_PAGE_NUMBER = 100_000
MAX_SEARCH = 200
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SLUG = 200
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive


def _instant(value: datetime) -> datetime:
    # Years are compared before any zone arithmetic: converting 9999-12-31T23:59-14:00 to
    # UTC overflows, and 0001-01-01 in Asia/Ho_Chi_Minh is local mean time (+07:06:40).
    if not EARLIEST.year - 1 <= value.year <= LATEST.year:
        raise _out_of_range()
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=get_settings().zone)
    value = value.astimezone(UTC)
    if not EARLIEST <= value < LATEST:
        raise _out_of_range()
    return value


def _not_a_number(value: object) -> object:
    if isinstance(value, int | float):  # bool included
        raise PydanticCustomError("datetime_type", "must be an ISO 8601 date-time text, such as 2027-02-03T08:00")
    return value


def _subscriber_target(value: str) -> str:
    value = value.strip()
    if not value:
        raise invalid("subscriber_target")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise invalid("control_characters")
    return value


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


def is_slug(text: str) -> bool:
    """Whether ``text`` is a category slug as slugify_vi makes them (``Slug`` for code outside pydantic)."""
    return len(text) <= MAX_SLUG and SLUG_PATTERN.match(text) is not None


def _categories(values: list[str]) -> list[str]:
    slugs: list[str] = []
    for position, raw in enumerate(values):
        slug = slugify_vi(clean_line(raw))
        if not slug:
            raise invalid("not_category", position=position, name=raw)
        if slug not in slugs:
            slugs.append(slug)
    return slugs


def _out_of_range() -> ValueError:
    return invalid("out_of_range", earliest=f"{EARLIEST:%Y-%m-%d}", latest=f"{LATEST.year - 1}-12-31")


RowId = Annotated[int, Interval(ge=1, le=MAX_BIGINT)]
Offset = Annotated[int, Interval(ge=0, le=MAX_BIGINT)]
Limit = Annotated[int, Interval(ge=1, le=MAX_PAGE)]
PageNumber = Annotated[int, Interval(ge=1, le=MAX_PAGE_NUMBER)]
SearchText = Annotated[str, StringConstraints(max_length=MAX_SEARCH), AfterValidator(_no_control_characters)]
Days = Annotated[int, Interval(ge=0, le=MAX_UPCOMING_DAYS)]
Year = Annotated[int, Interval(ge=SUPPORTED_YEARS.start, le=SUPPORTED_YEARS.stop - 1)]
Instant = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_instant)]
# A delivery id, as planning makes them ("msg_" and 32 hex digits): also the webhook-id.
DeliveryId = Annotated[str, StringConstraints(pattern=r"^msg_[0-9a-f]{32}$")]
# A category slug as slugify_vi makes them; a key date id as its schema admits them.
Slug = Annotated[str, StringConstraints(max_length=MAX_SLUG, pattern=SLUG_PATTERN.pattern)]
KeyDateId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")]
# Category names or slugs (a subscription's or a reader's choice): slugs, each once, in order.
Categories = Annotated[list[str], AfterValidator(_categories)]
# An e-mail address, Telegram chat id or Zalo follower id named in an export or forget request.
SubscriberTarget = Annotated[str, StringConstraints(max_length=MAX_TARGET), AfterValidator(_subscriber_target)]
