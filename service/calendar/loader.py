"""``config/key_dates.yaml``: validated at start; a wrong entry fails with its position and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from service.calendar.schemas import KeyDateIn


class KeyDatesFileError(ValueError):
    pass


def load_key_dates(path: Path) -> list[KeyDateIn]:
    """The key dates of a YAML file (``key_dates:`` list), each validated as the API validates it.

    Raises KeyDatesFileError naming the file and entry when the file is missing, is not
    YAML, lacks the list, repeats an id or holds an invalid entry.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyDatesFileError(f"{path}: not found") from None
    except yaml.YAMLError as exc:
        raise KeyDatesFileError(f"{path}: not valid YAML: {exc}") from None
    entries: Any = (document or {}).get("key_dates") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise KeyDatesFileError(f"{path}: expected a mapping with a 'key_dates' list")
    parsed: list[KeyDateIn] = []
    seen: dict[str, int] = {}
    for position, entry in enumerate(entries, start=1):
        label = f"{path}: entry {position}"
        if isinstance(entry, dict) and entry.get("name"):
            label += f" ({entry['name']})"
        try:
            key_date = KeyDateIn.model_validate(entry)
        except ValidationError as exc:
            reasons = "; ".join(_reason(error) for error in exc.errors())
            raise KeyDatesFileError(f"{label}: {reasons}") from None
        assert key_date.id is not None
        if key_date.id in seen:
            raise KeyDatesFileError(f"{label}: id {key_date.id!r} is already used by entry {seen[key_date.id]}")
        seen[key_date.id] = position
        parsed.append(key_date)
    return parsed


def _reason(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ())) or str((error.get("ctx") or {}).get("field", ""))
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message
