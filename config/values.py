"""The kinds of value a setting takes that a bare type does not say (a base URL, a colour,
a list of networks, a time of day, a zone...), as ``Annotated`` types for ``Settings``'
fields. Each check runs when the settings are read; its ``ValueError`` says why a value
is refused, and pydantic names the field (``base_url`` for ``BANTIN_BASE_URL``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, SecretStr


def _http_base(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def _telegram_secret(value: SecretStr) -> SecretStr:
    # setWebhook's secret_token: 1-256 characters, only A-Z, a-z, 0-9, _ and - (Bot API).
    secret = value.get_secret_value()
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's secret_token)")
    return value


def _hex_colour(value: str) -> str:
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value.strip()):
        raise ValueError("must be a #rgb or #rrggbb colour, e.g. #b3261e")
    return value.strip().lower()


def _logo(value: str) -> str:
    value = value.strip()
    if (value and not value.startswith(("http://", "https://", "/"))) or any(c.isspace() for c in value):
        raise ValueError("must be an http(s) URL or a path starting with /")
    return value


def _networks(value: str) -> str:
    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR") from None
    return value


def _roles(value: str) -> str:
    known = ("writer", "editor", "admin")
    for part in filter(None, (p.strip() for p in value.split(","))):
        if part not in known:
            raise ValueError(f"{part!r} is not a role ({', '.join(known)})")
    return value


def _weekday_name(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _local_time(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return value.strip()


def _known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


# An http(s) address without its trailing slash: "https://bantin.example.vn/" → "https://bantin.example.vn".
HttpBase = Annotated[str, AfterValidator(_http_base)]
# Telegram's webhook secret_token: empty, or 1-256 of A-Z, a-z, 0-9, _ and -.
TelegramSecret = Annotated[SecretStr, AfterValidator(_telegram_secret)]
# "#rgb" or "#rrggbb", stored in lower case.
HexColour = Annotated[str, AfterValidator(_hex_colour)]
# Empty, an http(s) URL or a path on this site ("/static/…"), without white space.
ImageAddress = Annotated[str, AfterValidator(_logo)]
# Comma-separated IP addresses and CIDRs (possibly none).
NetworkList = Annotated[str, AfterValidator(_networks)]
# Comma-separated staff roles (writer, editor, admin), possibly none.
RoleList = Annotated[str, AfterValidator(_roles)]
# A weekday's English name, in any case.
Weekday = Annotated[
    Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    BeforeValidator(_weekday_name),
]
# HH:MM, 00:00 to 23:59.
LocalTime = Annotated[str, AfterValidator(_local_time)]
# An IANA time zone this machine knows ("Asia/Ho_Chi_Minh").
ZoneName = Annotated[str, AfterValidator(_known_timezone)]
