"""A console request's malformed path or query, told in plain words on the console's error page.

FastAPI raises RequestValidationError before a console handler runs (``?page=abc``,
``/console/articles/abc``); ConsoleRoute shows it as a page, not the API's JSON 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.errors import field_name
from service.i18n import gettext

# A path that does not parse is an address that leads nowhere: "no such page", as the web has it.
PATH_STATUS = 404
QUERY_STATUS = 422


def validation_status(errors: Sequence[Any]) -> int:
    """404 when any error is in the path (a non-number id names no page), else 422."""
    return PATH_STATUS if any(_location(error) == "path" for error in errors) else QUERY_STATUS


def validation_message(errors: Sequence[Any]) -> str:
    """Every error as "“field”: reason." in the request's language, joined by spaces.

    ``errors`` are pydantic error dicts (``loc``, ``type``, ``ctx``, ``msg``).
    """
    return " ".join(
        gettext(
            "“%(field)s”: %(reason)s.", field=field_name(error.get("loc", ()), error.get("ctx")), reason=reason(error)
        )
        for error in errors
    )


def reason(error: dict[str, Any]) -> str:
    """Why one pydantic error's value was refused, in plain words (its type and context; a generic reason else)."""
    kind = str(error.get("type", ""))
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return gettext("phải là một số nguyên")
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return gettext("phải là một số")
    if kind == "greater_than_equal":
        return gettext("phải từ %(limit)s trở lên", limit=ctx.get("ge"))
    if kind == "greater_than":
        return gettext("phải lớn hơn %(limit)s", limit=ctx.get("gt"))
    if kind == "less_than_equal":
        return gettext("phải không quá %(limit)s", limit=ctx.get("le"))
    if kind == "less_than":
        return gettext("phải nhỏ hơn %(limit)s", limit=ctx.get("lt"))
    if kind == "missing":
        return gettext("thiếu giá trị")
    if kind == "string_too_long":
        return gettext("dài quá %(limit)s ký tự", limit=ctx.get("max_length"))
    if kind == "string_too_short":
        return gettext("phải có ít nhất %(limit)s ký tự", limit=ctx.get("min_length"))
    if kind in ("literal_error", "enum"):
        return gettext("phải là một trong: %(choices)s", choices=ctx.get("expected", ""))
    if kind in ("bool_parsing", "bool_type"):
        return gettext("phải là có hoặc không")
    if kind.startswith(("datetime_", "date_")):
        return gettext("không phải ngày giờ hợp lệ")
    if kind == "control_character":
        return gettext("không được chứa ký tự điều khiển")
    return gettext("giá trị không hợp lệ")


def _location(error: dict[str, Any]) -> str:
    loc = error.get("loc") or ("",)
    return str(loc[0])
