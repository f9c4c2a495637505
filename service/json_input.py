"""JSON that comes from outside, parsed within bounds: API request bodies, the Telegram and
Zalo webhooks, and what third-party APIs answer us.

CPython's ``json`` recurses once per level of nesting. A body of 100,000 ``[`` raises
RecursionError — not the ValueError every caller catches — and one nested 500 deep
parses, then overflows the stack of the first recursive code that walks it (pydantic, a
validator, ``json.dumps`` when it is stored): both were 500s (issue 18, item 11). So every
JSON document from outside goes through :func:`parse_json`, which refuses what is not
UTF-8, not JSON, or nested deeper than ``MAX_DEPTH``, with one exception type.
"""

from __future__ import annotations

import json
from typing import Any

# .NET's System.Text.Json refuses documents deeper than 64 by default (JsonSerializerOptions.MaxDepth);
# ours nest at most 4 deep (an article's categories, a key date's events_to) and a Telegram update
# about 6 (callback_query.message.reply_to_message.entities[].user).
MAX_DEPTH = 64


class JsonRefused(json.JSONDecodeError):
    """Not JSON we take; ``msg`` says why for a person, to follow "is not valid JSON: ".

    A ``json.JSONDecodeError`` (so a ``ValueError``): FastAPI turns one raised while it reads a
    body into its ``json_invalid`` validation error, which the API answers as a 422 naming ``body``.
    """


def parse_json(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in ``data``: UTF-8 (RFC 8259 §8.1), at most ``max_depth`` arrays and objects deep.

    Raises JsonRefused for bytes that are not UTF-8, text that is not JSON, and a document
    nested deeper than ``max_depth`` (checked without recursion, after CPython's own parser,
    which itself stops near its recursion limit).
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRefused(f"not UTF-8 text (byte {exc.start})", "", exc.start) from None
    else:
        text = data
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"{exc.msg} at character {exc.pos}", text, exc.pos) from None
    except RecursionError:
        raise JsonRefused(_too_deep(max_depth), text, 0) from None
    if _deeper_than(document, max_depth):
        raise JsonRefused(_too_deep(max_depth), text, 0)
    return document


def _too_deep(max_depth: int) -> str:
    return f"arrays or objects nested more than {max_depth} deep"


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether ``document`` holds arrays or objects more than ``limit`` levels deep; a loop, not recursion."""
    stack: list[tuple[Any, int]] = [(document, 1)] if isinstance(document, dict | list) else []
    while stack:
        container, depth = stack.pop()
        if depth > limit:
            return True
        values = container.values() if isinstance(container, dict) else container
        stack.extend((value, depth + 1) for value in values if isinstance(value, dict | list))
    return False
