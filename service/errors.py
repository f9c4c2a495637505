"""Domain errors: a code that names the rule, and its values; the shells word them.

The API and the CLI answer in English (``english``: the same sentences as before codes,
so API clients see no change); the console and the public forms in the reader's language,
by code (``service.web.refusals``), never by reading the English. A schema validator
raises ``invalid(code, …)``: pydantic's ``value_error`` with the English as its message
and the code and values in its context (``field_errors`` reads them back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticCustomError

# The error type of a value over a size limit: the API answers 413 for it, as for a request too large.
TOO_LARGE = "too_large"

# Code → the English sentence (str.format over the values). One table for every rule the
# domain refuses by; a new rule is a new code here and its words in service/web/refusals.py.
ENGLISH: dict[str, str] = {
    # any text
    "empty": "must not be empty",
    "required": "is required",
    # a review workflow's stage (service/staff/workflow.py)
    "unknown_holder": "must be editor, admin or the named members",
    "not_a_reviewer": "{name} is not an active editor or admin",
    "not_null": "must not be null",
    "too_long": "is {length} characters long; the limit is {limit}",
    TOO_LARGE: "is {length} bytes; the limit is {limit} bytes",
    "longer_than": "is longer than {limit} characters",
    "longer_than_bytes": "is longer than {limit} bytes in UTF-8",
    "larger_than_bytes": "is larger than {limit} bytes",
    "less_than_bytes": "must be less than {limit} bytes",
    "control_characters": "must not contain control characters",
    "invisible_characters": "must not contain invisible formatting characters (bidi controls, zero-width spaces)",
    "no_visible_text": "has no visible text once markup, scripts and comments are removed",
    "no_visible_content": (
        "has no visible content once sanitised (scripts, styles, comments and empty tags are removed):"
        " send text or an image"
    ),
    "one_of": "must be one of {choices}",
    "not_utf8": "is not UTF-8",
    # articles
    "url_characters": "must not contain spaces, control characters or invisible formatting characters",
    "not_absolute_url": "must be an absolute http:// or https:// URL",
    "too_many": "has {count} entries; the limit is {limit}",
    "entry_empty": "entry {position} is empty",
    "entry_too_long": "entry {position} is longer than {limit} characters",
    "entry_no_slug": "entry {position} ({name!r}) has no letters or digits to make a slug from",
    "new_category_not_allowed": "there is no category {name!r}, and creating one is not allowed for your role "
    "(BANTIN_NEW_CATEGORIES_BY); choose an existing category",
    "not_category": "entry {position} ({name!r}) is not a category name or slug",
    "no_category_exists": "none of the chosen categories exists",
    "unknown_category": "no such category",
    "menu_place": "a place in the menu is a number from 1 to {limit}",
    "comment_needed": "must say what to change",
    "code_wrong": "is not the authenticator app's current code",
    "schedule_and_now": "give a time to schedule at, or publish now, not both",
    "cover_alt_missing": (
        "the cover image needs a text alternative for readers who cannot see it ({problem}); send image_alt"
    ),
    "image_alt_missing": (
        "{count} image(s) have no text alternative ({images}); give each <img> an alt that says what it shows,"
        ' or alt="" with role="presentation" for an ornament'
    ),
    "file_type": "{name}: expected a .md, .markdown, .html or .htm file",
    "file_not_utf8": "{name} is not UTF-8 text (byte {byte})",
    "unknown_fields": "unknown field(s) {unknown}; known: {known}",
    "no_title": "the front matter has no title",
    "not_yaml": "is not valid YAML: {reason}",
    "not_mapping": "must be a mapping of field: value",
    "unclosed_front_matter": "starts with --- but has no closing ---",
    "idempotency_reused": "was already used with a different request (body, path or query)",
    # an upload, worded in the uploader's language where it is refused (service.media.images)
    "image_refused": "{message}",
    # subscriptions and channels
    "not_email": "is not a valid e-mail address: {reason}",
    "email": "{reason}",
    "consent_needed": "consent is needed to subscribe",
    "not_chat_id": "must be a Telegram chat id (e.g. -1001234567890) or @channelusername",
    "not_zalo_user": "must be the numeric Zalo user_id of a follower of the Official Account",
    "not_page_id": "must be the numeric id of a Facebook Page",
    "invalid_push_key": "is not a key a browser's push subscription gives (RFC 8291 §3.2)",
    "not_push_service": "is not at a push service this site accepts (BANTIN_WEB_PUSH_SERVICES)",
    "push_keys_differ": "is already subscribed with other keys: unsubscribe it in its browser first",
    "apprise_missing": "apprise is not installed; install bantin[apprise]",
    "not_https_url": "must be an https:// URL",
    "no_host": "has no host",
    "credentials": "must not carry a user name or password",
    "invalid_port": "has an invalid port",
    "unresolved": "host {host!r} does not resolve ({reason})",
    "non_public": "points at a non-public address ({address}); add it to BANTIN_EGRESS_ALLOW to allow it",
    "http_not_allowed": "must use https:// (http:// is allowed only for hosts in BANTIN_EGRESS_ALLOW)",
    "url_character": "contains a character a URL may not carry ({character!r}); percent-encode it",
    "bad_percent": "contains a '%' that does not start a %XX escape",
    "encoded_control": "carries a percent-encoded control character (such as %00)",
    "apprise_none": "holds no Apprise URL",
    "apprise_too_many": "holds {count} URLs; at most {limit}",
    "apprise_unknown": "{url!r} is not an Apprise URL that Apprise understands",
    "apprise_host_unknown": "{service}: Bantin cannot tell which host it calls",
    "apprise_non_public": "points at a non-public address ({address}); add it to BANTIN_EGRESS_ALLOW",
    # people and tokens
    "password_short": "must be at least {limit} characters long",
    "password_long": "must be at most {limit} characters long",
    "username": "must be 2 to 64 of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
    "scope_needed": "at least one scope is required",
    # inputs shared by the API and the CLI
    "out_of_range": "must be between {earliest} and {latest} (UTC)",
    "subscriber_target": "must be an e-mail address, a Telegram chat id or a Zalo follower id",
    # the calendar (the first seven: check_date, whose API types are day, month, leap_month, origin_year)
    "month_range": "month must be between 1 and 12",
    "solar_leap_month": "leap_month is only for lunar dates",
    "solar_day": "day {day} does not exist in {where} ({last} days)",
    "lunar_day": "a lunar day is between 1 and 30",
    "lunar_years": "lunar dates are supported from 1901 to 2099",
    "no_leap_month": "lunar year {year} has no leap month {month}",
    "lunar_day_30": "day 30 does not exist: lunar month {month} of {year} has 29 days",
    "offset_range": "{value} is not between 0 and 366 days before",
    "not_time": "must be a time as HH:MM (00:00 to 23:59)",
    "unknown_keys": "unknown key(s) {unknown}; known: channels, subscription_ids",
    "channel_list": "channels must be a list of channel names ({choices})",
    "id_list": "subscription_ids must be a list of subscription ids (1 to {limit})",
    "unknown_locales": "unknown locale(s) {unknown}; known: vi, en",
    "key_date_id": "must be lowercase letters, digits and hyphens (at most 80)",
    "template": "{reason}",
    "template_too_long": "{locale}: a template is at most {limit:,} characters",
    "year_range": "must be in the years the calendar covers, {first} to {last}",
    "not_on_date": "key date {key_date!r} does not fall on {date}{hint}",
    # WebSub and the Zalo webhook (programs, not people, read these)
    "hub_mode": "must be subscribe or unsubscribe",
    "not_our_feed": "is not a feed of this hub (e.g. {example})",
    "whole_seconds": "must be a whole number of seconds",
    "positive": "must be positive",
    "form_encoded": "must be application/x-www-form-urlencoded",
    "zalo_empty": "is empty; expected a Zalo webhook event (a JSON object)",
    "invalid_json": "is not valid JSON: {reason}",
    "not_object": "must be a JSON object, not {kind}",
    "timestamp_required": "is required: milliseconds since the epoch, as digits",
    "timestamp_digits": "must be milliseconds since the epoch, as digits",
    "zalo_user_required": "is required: the user's numeric Zalo id for this Official Account",
    "numeric_id": "must be a numeric id",
    "event_name_required": "is required: a string such as follow, unfollow or user_send_text",
    "text_required": "is required for user_send_text: the text the user sent",
    "msg_id": "must be a string of at most 128 characters",
}


def english(code: str, params: dict[str, Any]) -> str:
    """The English sentence of ``code`` with ``params`` (KeyError for an unknown code)."""
    return ENGLISH[code].format(**params)


class DomainError(Exception):
    """Base class: a request that cannot be carried out as asked."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class InvalidField(DomainError):
    """A value that passed the schema but breaks a rule only the domain knows.

    ``InvalidField("title", "too_long", length=301, limit=300)``: ``code`` names the rule
    (a key of ``ENGLISH``), ``params`` its values; ``message`` is the English sentence.
    """

    def __init__(self, field: str, code: str, /, **params: Any) -> None:
        self.field = field
        self.code = code
        self.params = params
        self.message = english(code, params)
        super().__init__(f"{field}: {self.message}")


def invalid(code: str, /, error_type: str = "value_error", **params: Any) -> PydanticCustomError:
    """What a schema validator raises for a broken rule: the English sentence as its message,
    the code and values in its context. ``error_type`` is what the API's 422 calls it
    (``type``): pydantic's ``value_error`` unless the rule always had a name of its own."""
    return PydanticCustomError(error_type, "{english}", {"code": code, "english": english(code, params), **params})


def too_large(length: int, limit: int) -> PydanticCustomError:
    """A value over its size limit in bytes: the ``too_large`` type, which the API answers with 413."""
    return invalid(TOO_LARGE, error_type=TOO_LARGE, length=length, limit=limit)


# FastAPI prefixes locations with where the value came from; staff care about the field.
_LOCATION_PREFIXES = {"body", "query", "path", "header"}


def field_name(loc: tuple[Any, ...] | list[Any], ctx: dict[str, Any] | None = None) -> str:
    """The dotted field a pydantic error location names, without FastAPI's ``body``/``query`` prefix."""
    parts = [str(p) for p in loc]
    where = None
    if parts and parts[0] in _LOCATION_PREFIXES:
        where, parts = parts[0], parts[1:]
    if not parts and ctx and "field" in ctx:
        # A rule across fields (a model validator) names the field it blames in its context.
        return str(ctx["field"])
    return ".".join(parts) or where or "body"


@dataclass(frozen=True)
class FieldError:
    """One refused value as a form shows it: the field, the rule's code (ours, or pydantic's
    error type such as ``missing``), its values and the English sentence."""

    field: str
    code: str
    params: dict[str, Any]
    message: str

    @classmethod
    def of(cls, exc: InvalidField) -> FieldError:
        """The field error of a domain refusal."""
        return cls(exc.field, exc.code, dict(exc.params), exc.message)


def field_errors(errors: list[Any]) -> list[FieldError]:
    """Pydantic's errors (``ValidationError.errors()``) as field errors, codes read back from the context."""
    found: list[FieldError] = []
    for error, item in zip(errors, validation_items(errors), strict=True):
        ctx: dict[str, Any] = dict(error.get("ctx") or {})
        code = str(ctx.pop("code", None) or item["type"])
        ctx.pop("english", None)
        found.append(FieldError(item["field"], code, ctx, item["message"]))
    return found


def validation_items(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic errors as ``{"field", "message", "type"}`` items: the API's 422 body and the CLI's message."""
    items = []
    for error in errors:
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        field = field_name(error.get("loc", ()), error.get("ctx"))
        if error.get("type") == "json_invalid":
            # FastAPI locates a JSON error as ("body", character offset): the field is the body,
            # and service.json_input's reason names the place.
            message = f"is not valid JSON: {error.get('ctx', {}).get('error', 'parse error')}"
            field = "body"
        items.append({"field": field, "message": message, "type": error.get("type", "")})
    return items
