"""What every PATCH body shares: a merge-update (RFC 7396, JSON Merge Patch).

A field left out keeps its value; a field sent changes it; ``null`` removes a value, so it
is taken only for a field that may be empty (an article's summary, a key date's English
name). For any other field an explicit ``null`` is refused as that field's error, a 422
naming it, before anything reaches the database: ``{"scope": null}`` on a key date was a
NOT NULL violation and a 500 (issue 18, item 16). The JSON schema, and so the OpenAPI
document, lists ``null`` only where it is taken.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

NOT_NULL = "not_null"


def _null_only_where_clearable(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Drop ``null`` from the JSON schema of every field ``model.CLEARABLE`` does not name."""
    clearable: frozenset[str] = getattr(model, "CLEARABLE", frozenset())
    for name, field_schema in schema.get("properties", {}).items():
        branches = field_schema.get("anyOf")
        if name in clearable or branches is None:
            continue
        kept = [branch for branch in branches if branch != {"type": "null"}]
        del field_schema["anyOf"]
        if len(kept) == 1:
            field_schema.update(kept[0])
        else:
            field_schema["anyOf"] = kept
        if "default" in field_schema and field_schema["default"] is None:
            del field_schema["default"]  # left out, the field keeps its value: there is no default


class MergePatch(BaseModel):
    """A PATCH body. Fields are typed ``X | None = None`` (None: left out); ``CLEARABLE`` names
    those an explicit ``null`` clears. Unknown fields are refused, as in every input schema."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_null_only_where_clearable)
    CLEARABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.CLEARABLE:
            raise PydanticCustomError(NOT_NULL, "must not be null: leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the request named, with their validated values (a clearable one may be None)."""
        return {name: getattr(self, name) for name in self.model_fields_set}
