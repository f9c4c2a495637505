"""The key date form: posted fields → the API's own schema (KeyDateIn), and errors by field in the request's language.

Adding and editing both validate the whole form with ``KeyDateIn``, so the console
refuses exactly what ``POST /api/v1/calendar/key-dates`` refuses (31/2, a lunar day 30
in a 29-day month, a leap month the year does not have, an empty name …); an edit then
sends every field as a ``KeyDateUpdate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from service.calendar.schemas import CHANNEL_NAMES, DEFAULT_OFFSETS, DEFAULT_SEND_TIME, KeyDateIn, KeyDateUpdate
from service.db.models import KeyDate
from service.errors import FieldError, field_errors
from service.i18n import N_, gettext
from service.web.refusals import WORDS, refusal

TEXT_FIELDS = (
    "id",
    "name",
    "name_en",
    "calendar",
    "day",
    "month",
    "origin_year",
    "scope",
    "tags",
    "offsets",
    "send_time",
    "subscription_ids",
    "template_vi",
    "template_en",
)
CHECKBOXES = ("leap_month", "active", *(f"channel_{name}" for name in CHANNEL_NAMES))
# Where an error is shown: the schema's field → the form's input.
_INPUT_OF = {"events_to": "subscription_ids", "templates": "template_vi", "body": "name"}


def _message(error: FieldError, values: dict[str, str]) -> str:
    """The words staff read for one refusal of a key date (KeyDateIn's, or the domain's), by its
    code, in the request's language; the English ones when none fit."""
    if error.code in ("int_parsing", "int_type", "int_from_float"):
        return gettext("Phải là một số nguyên.")
    if error.code == "solar_day":
        # The month as the form has it (with its year when one is given), and how many days it has.
        day, month, year = values.get("day"), values.get("month"), values.get("origin_year")
        return gettext(
            "Không có ngày %(day)s trong tháng %(month)s: tháng đó có %(count)s ngày.",
            day=day,
            month=f"{month}/{year}" if year else month,
            count=error.params.get("last"),
        )
    if error.code == "literal_error":
        return gettext("Chọn một giá trị trong danh sách.")
    if error.code in WORDS:
        return refusal(error)
    if error.field in _FIELD_MESSAGES:
        return gettext(_FIELD_MESSAGES[error.field])
    return error.message


# Messages that depend only on the field (msgids; translated where they are shown).
_FIELD_MESSAGES = {
    "origin_year": N_("Năm từ 1 đến 9999."),
    "send_time": N_("Giờ dạng HH:MM, từ 00:00 đến 23:59."),
    "offsets": N_("Mỗi mốc nhắc là số ngày trước, từ 0 đến 366."),
}


def _numbers(raw: str) -> list[str]:
    return [part for part in (p.strip() for p in raw.replace(";", ",").split(",")) if part]


@dataclass
class KeyDateForm:
    """What the key date form shows: the typed values (text; a checkbox is "on" or "") and errors by input."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> KeyDateForm:
        """A new key date's form: solar, national, active, the schema's default offsets and send time."""
        values = dict.fromkeys((*TEXT_FIELDS, *CHECKBOXES), "")
        values.update(
            calendar="solar",
            scope="national",
            active="on",
            offsets=", ".join(str(o) for o in DEFAULT_OFFSETS),
            send_time=DEFAULT_SEND_TIME,
        )
        return cls(values)

    @classmethod
    def of(cls, key_date: KeyDate) -> KeyDateForm:
        """The form filled from a stored key date."""
        events_to = key_date.events_to or {}
        templates = key_date.templates or {}
        values = {
            "id": key_date.id,
            "name": key_date.name,
            "name_en": key_date.name_en or "",
            "calendar": key_date.calendar,
            "day": str(key_date.day),
            "month": str(key_date.month),
            "origin_year": "" if key_date.origin_year is None else str(key_date.origin_year),
            "scope": key_date.scope,
            "tags": ", ".join(key_date.tags or []),
            "offsets": ", ".join(str(o) for o in key_date.offsets),
            "send_time": key_date.send_time,
            "subscription_ids": ", ".join(str(i) for i in events_to.get("subscription_ids", [])),
            "template_vi": templates.get("vi", ""),
            "template_en": templates.get("en", ""),
            "leap_month": "on" if key_date.leap_month else "",
            "active": "on" if key_date.active else "",
        }
        for name in CHANNEL_NAMES:
            values[f"channel_{name}"] = "on" if name in events_to.get("channels", []) else ""
        return cls(values)

    @classmethod
    def posted(cls, form: dict[str, str]) -> KeyDateForm:
        """The form as submitted: missing text fields empty, a checkbox "on" when sent at all."""
        values = {name: form.get(name, "") for name in TEXT_FIELDS}
        values.update({name: "on" if name in form else "" for name in CHECKBOXES})
        return cls(values)

    def _fields(self) -> dict[str, Any]:
        v = {
            name: value.strip() if name not in ("template_vi", "template_en") else value
            for name, value in self.values.items()
        }
        data: dict[str, Any] = {
            "id": v["id"] or None,
            "name": v["name"],
            "name_en": v["name_en"] or None,
            "calendar": v["calendar"],
            "day": v["day"],
            "month": v["month"],
            "leap_month": v["leap_month"] == "on",
            "origin_year": v["origin_year"] or None,
            "scope": v["scope"],
            "tags": [t for t in (p.strip() for p in v["tags"].split(",")) if t],
            "offsets": _numbers(v["offsets"]),
            "send_time": v["send_time"],
            "templates": {
                locale: v[f"template_{locale}"] for locale in ("vi", "en") if v[f"template_{locale}"].strip()
            },
            "active": v["active"] == "on",
        }
        channels = [name for name in CHANNEL_NAMES if v[f"channel_{name}"] == "on"]
        ids = _numbers(v["subscription_ids"])
        if not all(i.isdigit() for i in ids):
            self.errors["subscription_ids"] = gettext("Mã người nhận là các số, cách nhau bằng dấu phẩy.")
            ids = []
        data["events_to"] = {"channels": channels, "subscription_ids": [int(i) for i in ids]}
        return data

    def to_input(self, key_date_id: str | None = None) -> KeyDateIn | None:
        """The API's create schema (``key_date_id`` fixes the id of an edit), or None with ``errors`` filled."""
        data = self._fields()
        if key_date_id is not None:
            data["id"] = key_date_id
        try:
            parsed = KeyDateIn.model_validate(data)
        except ValidationError as exc:
            for error in field_errors(list(exc.errors())):
                self.refuse(replace(error, field=error.field.split(".")[0]))
            return None
        return None if self.errors else parsed

    def refuse(self, error: FieldError) -> None:
        """Show a refusal (the schema's, or the domain's ``FieldError.of(exc)``) by its input,
        in the request's language."""
        self.add_error(error.field, _message(error, self.values))

    def add_error(self, name: str, message: str) -> None:
        """Show ``message`` by the input that holds schema field ``name`` (the name field when none does);
        the first message for an input stays."""
        target = _INPUT_OF.get(name, name if name in self.values else "name")
        self.errors.setdefault(target, message)

    def ordered_errors(self) -> list[tuple[str, str]]:
        """Errors in the order the inputs appear on the page, for the summary at the top."""
        order = [*TEXT_FIELDS, *CHECKBOXES]
        return sorted(self.errors.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0)


def as_update(data: KeyDateIn) -> KeyDateUpdate:
    """Every field of a validated form as a PATCH (the id stays as it is)."""
    return KeyDateUpdate.model_validate(data.model_dump(exclude={"id"}))
