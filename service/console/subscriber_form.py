"""The "add a subscriber" form: posted fields → the API's SubscriptionCreate, errors by field in the request's language.

The channels and events come from the API's schema (``Channel``, ``EventName``), so a
channel added there appears here; what the console adds is how to ask for each
channel's target (its label, the input type, an example) in the staff's language. Errors
are worded by their codes (``service.web.refusals``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import ValidationError

from service.errors import FieldError, InvalidField, field_errors
from service.i18n import N_
from service.subscriptions.schemas import Channel, EventName, SubscriptionCreate
from service.web.refusals import refusal

CHANNELS: tuple[str, ...] = get_args(Channel)
EVENTS: tuple[str, ...] = get_args(EventName)
LOCALES = ("vi", "en")
FIELDS = ("channel", "target", "events", "categories", "locale")


@dataclass(frozen=True)
class TargetField:
    """How the form asks for one channel's target."""

    label: str
    input_type: str  # the HTML input type: url, email or text
    hint: str


# Keyed by the schema's channel names; a channel without an entry is asked for a plain "Địa chỉ nhận".
# Labels and hints are msgids: templates show them through _().
TARGET_FIELDS: dict[str, TargetField] = {
    "webhook": TargetField(
        N_("Địa chỉ webhook (URL)"),
        "url",
        N_("https://… — mỗi tin được ký theo Standard Webhooks; khóa ký chỉ hiện một lần sau khi lưu."),
    ),
    "email": TargetField(N_("Địa chỉ e-mail"), "email", N_("ví dụ: banbientap@danang.gov.vn")),
    "telegram": TargetField(N_("Mã cuộc trò chuyện Telegram"), "text", N_("ví dụ: -1001234567890 hoặc @tenkenh")),
    "slack": TargetField(N_("Incoming webhook URL của Slack"), "url", "https://hooks.slack.com/services/…"),
    "discord": TargetField(N_("Webhook URL của Discord"), "url", "https://discord.com/api/webhooks/…"),
    "teams": TargetField(
        N_("Webhook URL của Microsoft Teams"), "url", N_("https://…webhook.office.com/… hoặc Workflows")
    ),
    "zalo": TargetField(N_("user_id Zalo của người theo dõi OA"), "text", N_("dãy số, ví dụ: 2468013579246801357")),
    "facebook": TargetField(
        N_("ID Trang Facebook"), "text", N_("dãy số; khóa truy cập Trang đặt trong BANTIN_FACEBOOK_PAGE_TOKEN")
    ),
    "apprise": TargetField(
        N_("URL Apprise"), "text", N_("ví dụ: mailto://… hoặc tgram://… (nhiều URL cách nhau bằng dấu cách)")
    ),
}
CHANNEL_LABELS = {
    "webhook": "Webhook",
    "email": "E-mail",
    "telegram": "Telegram",
    "slack": "Slack",
    "discord": "Discord",
    "teams": "Microsoft Teams",
    "zalo": "Zalo OA",
    "facebook": "Facebook Page",
    "apprise": "Apprise",
    "web_push": "Web Push",  # readers' browsers (decision 0041); staff do not add them
}

FORGOTTEN = N_("Người nhận này đã yêu cầu xóa dữ liệu; chỉ chính họ mới đăng ký lại được (qua trang /subscribe).")


@dataclass
class SubscriberForm:
    """The add form: what was typed (checked events as a list), and errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def empty(cls, channel: str) -> SubscriberForm:
        """A blank form for ``channel`` (webhook when it is not one of the schema's channels)."""
        chosen = channel if channel in CHANNELS else "webhook"
        return cls({"channel": chosen, "target": "", "categories": "", "locale": "vi"})

    @classmethod
    def posted(cls, form: dict[str, str], events: list[str]) -> SubscriberForm:
        """The form as submitted; ``events`` are the checked boxes (a repeated field)."""
        values = {name: form.get(name, "") for name in ("channel", "target", "categories", "locale")}
        return cls(values, list(events))

    @property
    def target_field(self) -> TargetField:
        """How to ask for the chosen channel's target."""
        return TARGET_FIELDS.get(self.values.get("channel", ""), TargetField(N_("Địa chỉ nhận"), "text", ""))

    def to_create(self) -> SubscriptionCreate | None:
        """The API's create schema, or None with ``errors`` filled (field → message in the request's language)."""
        data: dict[str, Any] = {
            "channel": self.values["channel"],
            "target": self.values["target"],
            "events": self.events,
            "categories": [c for c in (p.strip() for p in self.values["categories"].split(",")) if c],
            "locale": self.values["locale"] or "vi",
        }
        try:
            return SubscriptionCreate.model_validate(data)
        except ValidationError as exc:
            for error in field_errors(list(exc.errors())):
                name = error.field.split(".")[0]
                self.errors.setdefault(name if name in FIELDS else "target", refusal(error))
            return None

    def refuse(self, exc: InvalidField) -> None:
        """Record the domain's refusal of a field (a channel's target, the egress guard) by its code,
        in the request's language."""
        self.errors[exc.field if exc.field in FIELDS else "target"] = refusal(FieldError.of(exc))

    def ordered_errors(self) -> list[tuple[str, str]]:
        """Errors in the order the fields appear, for the summary at the top."""
        return sorted(self.errors.items(), key=lambda item: FIELDS.index(item[0]) if item[0] in FIELDS else 0)
