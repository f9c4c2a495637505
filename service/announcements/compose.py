"""A finished message, rendered above the transport: a kind's words in the recipient's
language and, for e-mail, the shared layout, the footer links and the list headers.

Every word comes from the one catalogue (``service.i18n``) under the recipient's locale
(``subscription.locale``); every piece of HTML from an autoescaped template of this
package, through the one template configuration (``service.web.templating``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Template
from markupsafe import Markup

from config.settings import Settings, get_settings
from service.announcements.kinds import Claim, Content, Recipient, kind_of
from service.announcements.links import preferences_url, unsubscribe_url
from service.announcements.message import AnnouncementText, Link, Medium, Message
from service.i18n import NP_, language, pgettext, use_language
from service.web.templating import absolute_url, build_environment

# Marked with a context: the page title "Tùy chọn nhận tin" is "Subscription preferences",
# a link under a mail is "Preferences"; the button "Xem" on a page is "Show", a link "Open".
PREFERENCES = NP_("mail footer", "Tùy chọn nhận tin")
UNSUBSCRIBE = NP_("mail footer", "Hủy đăng ký")
OPEN = NP_("message link", "Xem")
# RFC 8058: the POST a mail client makes to the List-Unsubscribe URL for a one-click unsubscribe.
ONE_CLICK = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")


def template(name: str) -> Template:
    """A template of ``service/announcements/templates`` (compiled once per process)."""
    return build_environment("service.announcements").get_template(name)


@lru_cache(maxsize=1024)
def paragraphs(text: str, url: str | None) -> str:
    """The plain text as HTML: a paragraph per line, the line that is the link a link. Made
    once per process for each text: every subscriber of an announcement gets the same."""
    return template("paragraphs.html").render(lines=text.split("\n"), url=url)


def lines_words(subject: str, lines: Sequence[str], url: str | None, image_url: str | None = None) -> AnnouncementText:
    """Words made of a subject, the lines under it and the link, each a line of the text (and
    a paragraph of the HTML body), the link last."""
    text = "\n".join([subject, *lines, url] if url else [subject, *lines])
    return AnnouncementText(subject, text, paragraphs(text, url), url, image_url)


def prepared_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings,
                   now: datetime) -> AnnouncementText:  # fmt: skip
    """Words written when the announcement was planned, one per locale (a reminder's, from
    its key date's templates; a Zalo notice's): ``text`` and ``subject`` map a locale to
    words; the current language's, else the Vietnamese. ``url`` is the payload's."""
    texts: Mapping[str, Any] = payload.get("text") or {}
    body = str(texts.get(language()) or texts.get("vi") or "")
    subjects: Mapping[str, Any] = payload.get("subject") or {}
    subject = str(subjects.get(language()) or body.split("\n", 1)[0])
    url = payload.get("url")
    return AnnouncementText(subject, body, paragraphs(body, url), url)


def compose(claim: Claim, content: Content, medium: Medium, settings: Settings, now: datetime) -> Message:
    """The finished message of one claimed delivery for a channel that writes ``medium``.

    DATA and DOCUMENT carry the payload (and the feed's bytes) as they are; TEXT and MAIL
    the kind's words in the recipient's language; MAIL also the HTML document (layout,
    body, footer links) and the headers the transport adds. UnknownKind when the
    announcement's type is not registered.
    """
    kind = kind_of(claim.kind)
    if medium in (Medium.DATA, Medium.DOCUMENT):
        return Message(data=content.payload, document=content.document, retracts=content.retracts)
    if kind.words is None:
        raise ValueError(f"announcements of kind {kind.name!r} have no words for a {medium.value} channel")
    recipient = claim.recipient
    with use_language(recipient.locale):
        words = kind.words(content.payload, recipient, settings, now)
        link_label, preferences_label, unsubscribe_label = _labels(language())
        text = Message(
            data=content.payload,
            subject=words.subject,
            text=words.text,
            url=words.url,
            image_url=words.image_url,
            link_label=link_label,
            retracts=content.retracts,
        )
        if medium is Medium.TEXT:
            return text
        unsubscribe = unsubscribe_url(settings, recipient.unsubscribe_token)
        footer: tuple[Link, ...] = (Link(unsubscribe_label, unsubscribe),)
        if kind.preferences_link:
            preferences = preferences_url(settings, recipient.subscription_id, now)
            footer = (Link(preferences_label, preferences), *footer)
        # The layout's two macros around the kind's body (a template's autoescaped output):
        # calling them costs a tenth of rendering a template, which composing felt.
        layout = template("mail.html").module
        logo = absolute_url(settings.logo_url, settings.base_url) if settings.logo_url else None
        top = layout.top(language(), words.subject, settings.site_title, logo, settings.accent_color)  # type: ignore[attr-defined]
        body = Markup(words.html)  # noqa: S704 - a template's autoescaped output (the kind's words)
        html = str(top + body + layout.bottom(footer, settings.accent_color))  # type: ignore[attr-defined]
    return replace(text, html=html, footer=footer, headers=(("List-Unsubscribe", f"<{unsubscribe}>"), ONE_CLICK))


@lru_cache(maxsize=8)
def _labels(language: str) -> tuple[str, str, str]:
    """The words of the message link and the two footer links in ``language`` (the current one):
    looked up once, not once per message."""
    return pgettext("message link", OPEN), pgettext("mail footer", PREFERENCES), pgettext("mail footer", UNSUBSCRIBE)


def render_text(
    event_type: str,
    payload: Mapping[str, Any],
    locale: str,
    settings: Settings | None = None,
    recipient: Recipient | None = None,
    now: datetime | None = None,
) -> AnnouncementText:
    """The words of an announcement of ``event_type`` in ``locale``, outside any delivery (a
    preview, a test): for ``recipient`` when given, else for a subscriber nobody names;
    ``settings`` the process's when not given."""
    recipient = recipient or Recipient(subscription_id=0, channel="email", target="", locale=locale)
    words = kind_of(event_type).words
    if words is None:
        raise ValueError(f"announcements of kind {event_type!r} have no words")
    with use_language(locale):
        return words(payload, recipient, settings or get_settings(), now or datetime.now(UTC))
