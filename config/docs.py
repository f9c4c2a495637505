"""docs/configuration.md, generated from :class:`config.settings.Settings`.

``python -m config.docs`` (``make docs``) writes the file; a unit test fails while the
committed file differs from what it would write. The variable names, defaults and accepted
values come from the fields themselves; what each variable means, for the person setting it,
is written in ``config/settings_doc.yaml``. Every field must have a meaning and every meaning a field, or
rendering fails naming them, so a setting cannot be added, renamed or removed without its
documentation (``tests/unit/test_configuration_doc.py``).
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, SecretStr, TypeAdapter
from pydantic.fields import FieldInfo

from config.settings import PROJECT_ROOT, Settings

DOC = PROJECT_ROOT / "docs" / "configuration.md"
MEANINGS_FILE = PROJECT_ROOT / "config" / "settings_doc.yaml"


class Described(BaseModel):
    """A meaning with its default said in words (a default the field computes or leaves unset)."""

    model_config = ConfigDict(extra="forbid")
    default: str
    meaning: str


# {section: {field: meaning}}, sections and fields in the order the document shows them.
Meanings = TypeAdapter(dict[str, dict[str, str | Described]])


def meanings() -> dict[str, dict[str, str | Described]]:
    """config/settings_doc.yaml, validated (a malformed entry fails naming its place)."""
    return Meanings.validate_python(yaml.safe_load(MEANINGS_FILE.read_text(encoding="utf-8")))


HEADER = """# Configuration

<!-- Generated from config/settings.py by `make docs` (python -m config.docs); do not edit:
     change the field, or its meaning in config/settings_doc.yaml, and run `make docs`. -->

Every setting is an environment variable (or a line of a `.env` file in the working
directory) named `BANTIN_` + the field of `Settings` in capitals. The CLI reads the same
variables as the service: export them in every terminal. A value that is not accepted stops
the process at start, naming the field (`port` for `BANTIN_PORT`) and the reason.
`deploy/.env.example` lists what a production run needs ([operations](operations.md#running-in-production)).
"""


class UndocumentedSettings(ValueError):
    """A field of ``Settings`` without a meaning here, or a meaning without a field."""


def render(
    fields: dict[str, FieldInfo] | None = None, sections: dict[str, dict[str, str | Described]] | None = None
) -> str:
    """The whole of docs/configuration.md, from ``Settings``' fields and config/settings_doc.yaml
    (or the ones given); :class:`UndocumentedSettings` names the variables that do not match."""
    fields = Settings.model_fields if fields is None else fields
    sections = meanings() if sections is None else sections
    documented = [name for rows in sections.values() for name in rows]
    missing = [variable(name) for name in fields if name not in documented]
    stale = [variable(name) for name in documented if name not in fields]
    twice = sorted({variable(name) for name in documented if documented.count(name) > 1})
    if missing or stale or twice:
        raise UndocumentedSettings(
            f"{MEANINGS_FILE.name}: no meaning for {missing}, no such setting {stale}, twice {twice}"
        )
    parts = [HEADER]
    for section, rows in sections.items():
        parts.append(f"\n## {section}\n\n| variable | default | accepts | meaning |\n| --- | --- | --- | --- |\n")
        for name, entry in rows.items():
            field = fields[name]
            if isinstance(entry, Described):
                default, meaning = entry.default, entry.meaning
            else:
                value = field.get_default(call_default_factory=True)
                default, meaning = show_default(value) + (_duration(value) if name.endswith("_seconds") else ""), entry
            cells = [f"`{variable(name)}`", default, accepts(field), meaning]
            # A | inside a cell (a pattern's alternatives) would end it: GitHub's tables take \|.
            parts.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n")
    return "".join(parts)


def variable(name: str) -> str:
    """The environment variable of a field: ``BANTIN_`` and its name in capitals."""
    return f"BANTIN_{name.upper()}"


def show_default(value: Any) -> str:
    """A field's default as the document shows it: code for values, words for nothing."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        inside = value.is_relative_to(PROJECT_ROOT)
        return f"`{value.relative_to(PROJECT_ROOT).as_posix()}` in the project" if inside else f"`{value}`"
    if isinstance(value, list):
        return f"`{json.dumps([_number(v) for v in value], separators=(', ', ': '))}`"
    if isinstance(value, float | int):
        return f"`{_number(value)}`"
    return f"`{value}`"


def _number(value: float | int) -> float | int:
    return int(value) if float(value).is_integer() else value


def _duration(seconds: float | int) -> str:
    """Whole days or hours in words, after a number of seconds: 432000 says less than "5 days"."""
    for unit, size in (("days", 86400), ("h", 3600)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f" ({count} {'day' if unit == 'days' and count == 1 else unit})"
    return ""


def accepts(field: FieldInfo) -> str:
    """What a value may be, from the field's type and constraints (bounds, length, pattern)."""
    rules = {type(rule).__name__: rule for rule in field.metadata}
    words = [_kind(field.annotation)]
    if "Ge" in rules and "Le" in rules:
        words.append(f"{rules['Ge'].ge}–{rules['Le'].le}")
    else:
        for name, shown in (("Ge", "≥ {0.ge}"), ("Gt", "> {0.gt}"), ("Le", "≤ {0.le}"), ("Lt", "< {0.lt}")):
            if name in rules:
                words.append(shown.format(rules[name]))
    if "MaxLen" in rules:
        words.append(f"at most {rules['MaxLen'].max_length} characters")
    words += [f"matching `{rule.pattern}`" for rule in field.metadata if getattr(rule, "pattern", None)]
    return ", ".join(words)


KINDS: dict[Any, str] = {
    int: "integer",
    float: "number",
    bool: "`true` or `false`",
    str: "text",
    SecretStr: "text (secret)",
    Path: "path",
}


def _kind(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(_kind(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return ", ".join(f"`{arg}`" for arg in args)
    if origin is list:
        return f"JSON list of {_kind(args[0])}s"
    return KINDS[annotation]


def main() -> None:
    """Write docs/configuration.md (``make docs``)."""
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
