"""The words of a reminder, in the official style, from Jinja2 templates per locale.

    Còn 7 ngày: Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)

Dates are d/m/yyyy without leading zeros. A key date may override a template per locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError

from service.calendar import sandbox
from service.calendar.occurrences import anniversary_flags
from service.db.models import KeyDate
from service.i18n import N_, gettext, use_language

# Sandboxed and held to a budget (decision 0030): templates come from admins through the API.
_env = sandbox.BoundedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)

# The default templates are msgids of the one catalogue (service.i18n): Vietnamese here,
# English in messages.po, each a whole template so that a translation may reorder it.
# The official heading of an occurrence ("Kỷ niệm 97 năm … (3/2/1930 - 3/2/2027)"): the
# reminder's words after its "Còn 7 ngày: ", and the title of an article drafted from it.
HEADING_TEMPLATE = N_(
    "{% if anniversary %}Kỷ niệm {{ anniversary }} năm {{ name }} ({{ origin }} - {{ date }})"
    "{% else %}{{ name }} ({% if lunar %}{{ lunar_day }} âm lịch, {% endif %}{{ date }}){% endif %}"
)
# How far off the occurrence is, before the heading.
WHEN_TEMPLATE = N_(
    "{% if days_before == 0 %}Hôm nay: {% elif days_before == 1 %}Ngày mai: "
    "{% else %}Còn {{ days_before }} ngày: {% endif %}"
)
LOCALES = ("vi", "en")


def default_template(locale: str) -> str:
    """The default reminder template in ``locale``: when, then the heading, from the catalogue."""
    with use_language(locale):
        return gettext(WHEN_TEMPLATE) + gettext(HEADING_TEMPLATE)


# Anniversary numbers a template is tried with: every flag (năm tròn, năm lẻ 5, jubilee)
# and a plain year; no number at all for a key date without an origin year.
SAMPLE_ANNIVERSARIES = (1, 5, 10, 25, 50, 97, 100)
SAMPLE_YEAR = 2027


@dataclass(frozen=True)
class ReminderText:
    vi: str
    en: str


@lru_cache(maxsize=1024)
def compiled(source: str) -> Template:
    """A template compiled once per distinct source: compiling costs ~10 ms, rendering ~20 µs,
    and /calendar.ics renders two per alarm of every occurrence."""
    return _env.from_string(source)


def dmy(value: date) -> str:
    """``d/m/yyyy`` without leading zeros, as dates are written in Vietnamese."""
    return f"{value.day}/{value.month}/{value.year}"


def ordinal(number: int) -> str:
    """An English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def check_templates(key_date: KeyDate) -> None:
    """ValueError naming the locale, the values and the reason when one of the key date's own
    templates fails to render, or renders to nothing, for any of its offsets.

    Rendered with the values the reminders will use: every offset × sample anniversaries
    covering every flag (none without an origin year), on this key date's calendar. A
    template that fails only for values not tried here is caught when sent (see
    ``reminders.send_due``): it fails that reminder alone.
    """
    occurrence = date(SAMPLE_YEAR, key_date.month, min(key_date.day, 28))
    numbers: tuple[int | None, ...] = SAMPLE_ANNIVERSARIES if key_date.origin_year is not None else (None,)
    for locale, source in (key_date.templates or {}).items():
        template = _compile(locale, source)
        for days_before in key_date.offsets:
            for number in numbers:
                flags = anniversary_flags(number)
                values = _values(key_date, occurrence, number, flags, days_before)
                name = key_date.name if locale == "vi" else (key_date.name_en or key_date.name)
                where = f"{locale}: for days_before={days_before}" + (f", anniversary={number}" if number else "")
                try:
                    text = sandbox.render(template, {**values, "name": name}).strip()
                except sandbox.OverBudget as exc:
                    raise ValueError(f"{where}: over the template budget: {exc}") from None
                except UndefinedError as exc:
                    raise ValueError(f"{where}: {exc.message}; available: {', '.join(sorted(values))}, name") from None
                except SecurityError as exc:
                    raise ValueError(f"{where}: not allowed in a template: {exc}") from None
                except Exception as exc:  # noqa: BLE001 - any error of an admin's template is a reason to refuse it
                    raise ValueError(f"{where}: {type(exc).__name__}: {exc}") from None
                if not text:
                    raise ValueError(f"{where}: renders to nothing")


def _compile(locale: str, source: str) -> Template:
    try:
        return _env.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"{locale}: template syntax error on line {exc.lineno}: {exc.message}") from None


def _values(
    key_date: KeyDate, occurrence: date, anniversary: int | None, flags: tuple[str, ...], days_before: int
) -> dict[str, object]:
    origin = ""
    if key_date.origin_year is not None:
        origin = f"{key_date.day}/{key_date.month}/{key_date.origin_year}"
        if key_date.calendar == "lunar":
            origin += " âm lịch"
    return {
        "days_before": days_before,
        "anniversary": anniversary,
        "ordinal": ordinal(anniversary) if anniversary else "",
        "origin": origin,
        "date": dmy(occurrence),
        "lunar": key_date.calendar == "lunar",
        "lunar_day": f"{key_date.day}/{key_date.month}{' nhuận' if key_date.leap_month else ''}",
        "flags": list(flags),
        "key_date_id": key_date.id,
    }


def render_default(
    key_date: KeyDate, occurrence: date, anniversary: int | None, flags: tuple[str, ...], days_before: int
) -> ReminderText:
    """The reminder's words from the default templates, whatever the key date's own say."""
    return render_reminder(key_date, occurrence, anniversary, flags, days_before, own_templates=False)


def render_reminder(
    key_date: KeyDate,
    occurrence: date,
    anniversary: int | None,
    flags: tuple[str, ...],
    days_before: int,
    *,
    own_templates: bool = True,
) -> ReminderText:
    """The reminder's words in both locales; raises whatever a key date's own template raises,
    sandbox.OverBudget included (a template within budget for the values tried when it was
    saved may not be for others)."""
    values = _values(key_date, occurrence, anniversary, flags, days_before)
    texts = {}
    for locale in LOCALES:
        name = key_date.name if locale == "vi" else (key_date.name_en or key_date.name)
        source = (own_templates and (key_date.templates or {}).get(locale)) or default_template(locale)
        texts[locale] = sandbox.render(compiled(source), {**values, "name": name}).strip()
    return ReminderText(vi=texts["vi"], en=texts["en"])


def official_heading(key_date: KeyDate, occurrence: date, anniversary: int | None, flags: tuple[str, ...]) -> str:
    """The occurrence's heading in the official Vietnamese style, without a "days before" prefix.

    "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)" with an
    anniversary number; "Tết Nguyên đán (1/1 âm lịch, 6/2/2027)" without one. The same
    words as the default reminder (HEADING_TEMPLATE, in Vietnamese), whatever the key date's own
    templates say: those are written for reminders, not for titles.
    """
    values = _values(key_date, occurrence, anniversary, flags, days_before=0)
    return sandbox.render(compiled(HEADING_TEMPLATE), {**values, "name": key_date.name}).strip()
