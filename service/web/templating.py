"""How every page is rendered: one way to build Jinja2 environments, the filters, the static files.

Templates and static files live in this package (``templates/``, ``static/``) and ship
in the wheel. Static files are read once and served from memory under
``/static/<name>?v=<digest>``; the digest in the URL is what lets them be cached for a
year. ``build_id`` names everything a page depends on besides its data (templates,
static files, branding settings), so a deploy or a new accent colour changes every ETag.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from config.settings import Settings, get_settings
from service.announcements.kinds import kind_label
from service.db.types import utcnow
from service.i18n import (
    LANGUAGE_NAMES,
    N_,
    NP_,
    catalogue_digest,
    gettext,
    language,
    language_switch_url,
    other_language,
    pgettext,
    translate,
    translate_plural,
    with_language,
)
from service.web import push_consent
from service.web.log_words import answer_words, error_words, reason_words

_WEEKDAYS_VI = (N_("Thứ Hai"), N_("Thứ Ba"), N_("Thứ Tư"), N_("Thứ Năm"), N_("Thứ Sáu"), N_("Thứ Bảy"), N_("Chủ Nhật"))
_TEXT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    # An XML type, as browsers require of an XSLT stylesheet (the feeds' own, feed.xsl).
    ".xsl": "application/xslt+xml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class StaticFile:
    name: str
    body: bytes
    content_type: str
    digest: str  # hex, of the bytes

    @property
    def etag(self) -> str:
        """The strong ETag: the digest, quoted."""
        return f'"{self.digest}"'


@lru_cache(maxsize=1)
def static_files() -> dict[str, StaticFile]:
    """Every file under ``service/web/static``, by name; nothing else is ever served."""
    found: dict[str, StaticFile] = {}
    for entry in resources.files("service.web").joinpath("static").iterdir():
        if not entry.is_file() or entry.name.startswith("."):
            continue
        body = entry.read_bytes()
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        content_type = _TEXT_TYPES.get(suffix) or mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
        digest = hashlib.sha256(body).hexdigest()[:20]
        found[entry.name] = StaticFile(entry.name, body, content_type, digest)
    return found


def static_url(name: str) -> str:
    """``/static/site.css?v=…``: a new file content is a new URL, so the old one may be cached forever."""
    return f"/static/{name}?v={static_files()[name].digest}"


@dataclass(frozen=True, slots=True)
class Branding:
    """What the settings say a page looks like, plus values derived from them once."""

    title: str
    description: str
    author: str
    base_url: str
    logo_url: str | None  # absolute
    accent: str
    # A <style> block with the accent colour, and its CSP hash (style-src 'sha256-…').
    inline_css: Markup
    inline_css_hash: str
    build_id: str
    loaded_at: datetime
    # The VAPID public key browsers subscribe with (decision 0041); empty: no "Nhận thông báo" button.
    push_key: str = ""


def _on_colour(hex_colour: str) -> str:
    """Black or white text on the accent colour, whichever contrasts more (WCAG relative luminance)."""
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#fff"


def absolute_url(url: str, base_url: str) -> str:
    """A path on this site ("/static/logo.png") made absolute; absolute URLs are kept."""
    return f"{base_url}{url}" if url.startswith("/") and not url.startswith("//") else url


_branding_cache: tuple[Settings, Branding] | None = None


def branding() -> Branding:
    """The branding of the current settings (recomputed only when the settings object changes)."""
    global _branding_cache
    settings = get_settings()
    if _branding_cache is not None and _branding_cache[0] is settings:
        return _branding_cache[1]
    css = f":root{{--accent:{settings.accent_color};--on-accent:{_on_colour(settings.accent_color)}}}"
    css_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    logo = absolute_url(settings.logo_url, settings.base_url) if settings.logo_url else None
    fingerprint = hashlib.sha256()
    for part in (settings.site_title, settings.site_description, settings.site_author, settings.base_url):
        fingerprint.update(part.encode() + b"\0")
    fingerprint.update(f"{logo}\0{css}\0{settings.timezone}\0{settings.page_size}".encode())
    # Where /theo-doi sends readers: the page changes with them, not with any article.
    fingerprint.update(f"{settings.telegram_bot_username}\0{settings.zalo_oa_id}".encode())
    # Whether pages offer browser notifications, and for which key.
    push_key = settings.web_push_vapid_public_key if settings.web_push_vapid_private_key.get_secret_value() else ""
    fingerprint.update(f"{push_key}\0".encode())
    for name, file in sorted(static_files().items()):
        fingerprint.update(f"{name}={file.digest}\0".encode())
    fingerprint.update(_template_sources_digest().encode())
    fingerprint.update(catalogue_digest().encode())
    result = Branding(
        title=settings.site_title,
        description=settings.site_description,
        author=settings.site_author,
        base_url=settings.base_url,
        logo_url=logo,
        accent=settings.accent_color,
        inline_css=Markup(css),  # noqa: S704 - built above from a validated #hex colour only
        inline_css_hash=f"sha256-{css_hash}",
        build_id=fingerprint.hexdigest()[:16],
        loaded_at=utcnow(),
        push_key=push_key,
    )
    _branding_cache = (settings, result)
    return result


@lru_cache(maxsize=1)
def _template_sources_digest() -> str:
    digest = hashlib.sha256()
    root = resources.files("service.web").joinpath("templates")
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_file():
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()


def local_datetime(instant: datetime | None) -> str:
    """ "Thứ Tư, 03/02/2027, 08:00 (GMT+7)" in ``BANTIN_TIMEZONE`` (the weekday in the request's language)."""
    if instant is None:
        return ""
    local = instant.astimezone(get_settings().zone)
    offset = local.utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    minutes = int(offset.total_seconds() % 3600 // 60) if offset is not None else 0
    zone = f"GMT{hours:+d}" + (f":{minutes:02d}" if minutes else "")
    return f"{gettext(_WEEKDAYS_VI[local.weekday()])}, {local:%d/%m/%Y}, {local:%H:%M} ({zone})"


def local_date(instant: datetime | None) -> str:
    """ "03/02/2027" in ``BANTIN_TIMEZONE``."""
    return "" if instant is None else f"{instant.astimezone(get_settings().zone):%d/%m/%Y}"


def local_time(value: datetime | None) -> str:
    """dd/mm/yyyy HH:mm in ``BANTIN_TIMEZONE`` (the console's form); empty for None."""
    return "" if value is None else value.astimezone(get_settings().zone).strftime(LOCAL_FORMAT)


def local_seconds(value: datetime | None) -> str:
    """dd/mm/yyyy HH:mm:ss in ``BANTIN_TIMEZONE`` (the delivery log: attempts a second apart); empty for None."""
    return "" if value is None else value.astimezone(get_settings().zone).strftime(LOCAL_SECONDS_FORMAT)


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


def day(value: date) -> str:
    """A calendar date as dd/mm/yyyy."""
    return value.strftime("%d/%m/%Y")


def actor_label(actor: str | None) -> str:
    """ "user:trang" → "trang"; "token:3" → "API token #3" (see Article.created_by); empty for None."""
    if not actor:
        return ""
    kind, _, name = actor.partition(":")
    return gettext("API token #%(id)s", id=name) if kind == "token" else name


class Labels(Mapping[str, str]):
    """A table of Vietnamese labels (status, flag, role) that answers in the request's language."""

    def __init__(self, source: dict[str, str], contexts: dict[str, str] | None = None) -> None:
        """``source``: code → Vietnamese label (marked with N_ for extraction); ``contexts``: code → the
        msgctxt of a label marked with NP_, a Vietnamese word English says otherwise elsewhere (a button)."""
        self._source = source
        self._contexts = contexts or {}

    def __getitem__(self, key: str) -> str:
        """The label of ``key``, translated; KeyError for an unknown code."""
        message, context = self._source[key], self._contexts.get(key)
        return gettext(message) if context is None else pgettext(context, message)

    def __iter__(self) -> Iterator[str]:
        """The codes."""
        return iter(self._source)

    def __len__(self) -> int:
        """How many codes."""
        return len(self._source)


LOCAL_FORMAT = "%d/%m/%Y %H:%M"
LOCAL_SECONDS_FORMAT = "%d/%m/%Y %H:%M:%S"
STATUS_LABELS = Labels(
    {
        "draft": N_("Nháp"),
        "pending_review": N_("Chờ duyệt"),
        "scheduled": N_("Hẹn giờ"),
        "published": N_("Đã xuất bản"),
        "withdrawn": N_("Đã gỡ"),
    }
)
FLAG_LABELS = Labels({"nam_tron": N_("năm tròn"), "nam_le_5": N_("năm lẻ 5"), "jubilee": N_("đại lễ")})
# "Quản trị" also names the console itself ("Console"); the role is "Administrator".
ROLE_LABELS = Labels(
    {"writer": N_("Phóng viên"), "editor": N_("Biên tập viên"), "admin": NP_("role", "Quản trị")}, {"admin": "role"}
)
# "Tạm dừng" is also the button that pauses: the state has its own context ("Paused", not "Pause").
SUBSCRIPTION_STATUS_LABELS = Labels(
    {
        "active": N_("Đang nhận"),
        "paused": NP_("subscription status", "Tạm dừng"),
        "disabled": N_("Bị tắt"),
        "pending": N_("Chờ xác nhận"),
    },
    {"paused": "subscription status"},
)
DELIVERY_STATUS_LABELS = Labels(
    {"pending": N_("Đang chờ"), "sending": N_("Đang gửi"), "delivered": N_("Đã gửi"), "failed": N_("Thất bại")}
)


def iso_local(instant: datetime | None) -> str:
    """ISO 8601 with the local offset (2027-02-03T08:00:00+07:00): <time datetime>, Open Graph, JSON-LD."""
    return "" if instant is None else instant.astimezone(get_settings().zone).replace(microsecond=0).isoformat()


def _shared_filters() -> dict[str, Any]:
    """The filters every environment has: local times and dates (dd/mm/yyyy), actors."""
    return {
        "local_datetime": local_datetime,
        "local_date": local_date,
        "iso_local": iso_local,
        "local": local_time,
        "local_seconds": local_seconds,
        "announcement_title": announcement_title,
        "day": day,
        "actor": actor_label,
        "kind_name": kind_label,
        "reason": reason_words,
        "error": error_words,
        "answer": answer_words,
    }


def web_push_consent() -> str:
    """The consent words beside the "Nhận thông báo" button, in the page's language."""
    return push_consent.web_push_consent(branding().title)


@lru_cache(maxsize=4)
def build_environment(package: str) -> Environment:
    """The Jinja2 environment of ``package``'s ``templates/`` folder; the one way every page is rendered.

    Public pages (``service.web``) and the console (``service.console``) keep their own
    folders (both have a ``base.html``) but share every setting: autoescape for HTML and
    XML (plain-text templates such as robots.txt excepted), undefined names are errors
    (StrictUndefined), trimmed blocks, the same filters, the status/flag/role labels and
    ``jinja2.ext.i18n`` bound to the request's language (service.i18n), new-style
    (``{{ _("… %(n)s", n=3) }}``).
    """
    env = Environment(
        loader=PackageLoader(package, "templates"),
        # Plain-text templates (robots.txt) are the one exception; strings default to escaped.
        autoescape=select_autoescape(disabled_extensions=("txt",), default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(translate, translate_plural, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static_url=static_url,
        language=language,
        other_language=other_language,
        with_language=with_language,
        language_switch_url=language_switch_url,
        language_names=LANGUAGE_NAMES,
        status_labels=STATUS_LABELS,
        flag_labels=FLAG_LABELS,
        role_labels=ROLE_LABELS,
        subscription_labels=SUBSCRIPTION_STATUS_LABELS,
        delivery_labels=DELIVERY_STATUS_LABELS,
        web_push_consent=web_push_consent,
    )
    env.filters.update(_shared_filters())
    # JSON-LD: readable Vietnamese; <, >, & and ' are still escaped by |tojson.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def environment() -> Environment:
    """The public pages' environment (``service/web/templates``); see build_environment."""
    return build_environment("service.web")


def render(template: str, **context: Any) -> str:
    """Render one public template with ``site`` (the branding) available to it."""
    return environment().get_template(template).render(site=branding(), **context)
