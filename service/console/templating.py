"""The console's Jinja2 environment: autoescaped templates, local times, Vietnamese labels."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from config.settings import get_settings

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LOCAL_FORMAT = "%d/%m/%Y %H:%M"
# The delivery log: attempts a second apart must be told apart.
LOCAL_SECONDS_FORMAT = "%d/%m/%Y %H:%M:%S"

STATUS_LABELS = {
    "draft": "Nháp",
    "pending_review": "Chờ duyệt",
    "scheduled": "Hẹn giờ",
    "published": "Đã xuất bản",
    "withdrawn": "Đã gỡ",
}
SUBSCRIPTION_STATUS_LABELS = {
    "active": "Đang nhận",
    "paused": "Tạm dừng",
    "disabled": "Bị tắt",
    "pending": "Chờ xác nhận",
}
DELIVERY_STATUS_LABELS = {"pending": "Đang chờ", "sending": "Đang gửi", "delivered": "Đã gửi", "failed": "Thất bại"}
FLAG_LABELS = {"nam_tron": "năm tròn", "nam_le_5": "năm lẻ 5", "jubilee": "đại lễ"}
ROLE_LABELS = {"writer": "Phóng viên", "editor": "Biên tập viên", "admin": "Quản trị"}


def local_time(value: datetime | None) -> str:
    """dd/mm/yyyy HH:mm in BANTIN_TIMEZONE; empty for None."""
    if value is None:
        return ""
    return value.astimezone(get_settings().zone).strftime(LOCAL_FORMAT)


def local_seconds(value: datetime | None) -> str:
    """dd/mm/yyyy HH:mm:ss in BANTIN_TIMEZONE; empty for None."""
    if value is None:
        return ""
    return value.astimezone(get_settings().zone).strftime(LOCAL_SECONDS_FORMAT)


def announcement_title(payload: dict[str, Any] | None) -> str:
    """What an announcement is about, from its payload: the article's title, a reminder's
    Vietnamese subject, or a notice's message; empty when none of them is there."""
    if not payload:
        return ""
    article = payload.get("article")
    if isinstance(article, dict) and article.get("title"):
        return str(article["title"])
    subject = payload.get("subject")
    if isinstance(subject, dict) and subject.get("vi"):
        return str(subject["vi"])
    return str(payload.get("message") or "")


def actor_label(actor: str | None) -> str:
    """ "user:trang" → "trang"; "token:3" → "API token #3" (see Article.created_by)."""
    if not actor:
        return ""
    kind, _, name = actor.partition(":")
    return f"API token #{name}" if kind == "token" else name


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared Jinja2 environment, built once: HTML autoescaped, filters local/actor/day, the label tables."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Every visible string is marked {{ _("…") }} (Vietnamese is the source language);
        # null translations until the English catalogue is plugged in.
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["local"] = local_time
    env.filters["local_seconds"] = local_seconds
    env.filters["announcement_title"] = announcement_title
    env.filters["actor"] = actor_label
    env.filters["day"] = lambda d: d.strftime("%d/%m/%Y")
    env.globals.update(
        status_labels=STATUS_LABELS,
        flag_labels=FLAG_LABELS,
        role_labels=ROLE_LABELS,
        subscription_labels=SUBSCRIPTION_STATUS_LABELS,
        delivery_labels=DELIVERY_STATUS_LABELS,
    )
    return env


def render(name: str, **context: Any) -> str:
    """Template ``name`` rendered with ``context`` and the site title; jinja2.TemplateNotFound if there is none."""
    settings = get_settings()
    return environment().get_template(name).render(site_title=settings.site_title, **context)
