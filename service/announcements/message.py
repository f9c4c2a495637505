"""What a kind's words are (``AnnouncementText``) and what a channel receives (``Message``).

A message is rendered above the transport (listmonk's messenger model): a channel gets
the subject, the plain text, the HTML document, the link, the footer links and the
headers it must add, already in the recipient's language, and only writes them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Medium(Enum):
    """What a channel writes out, so that only that is rendered for it."""

    DATA = "data"  # the announcement's type and payload as JSON (webhooks)
    DOCUMENT = "document"  # a feed's bytes (WebSub content distribution)
    TEXT = "text"  # subject, plain text and link (chats, Telegram, Zalo, Apprise)
    MAIL = "mail"  # the same, plus the HTML document, footer links and list headers (e-mail)


@dataclass(frozen=True)
class AnnouncementText:
    """The words of one announcement for one recipient, in the recipient's language.

    ``text`` is lines; the link, when there is one, is a line of its own (channels that
    cut the text keep that line whole). ``html`` is the body as an HTML fragment,
    autoescaped (a template's output), for the e-mail layout.
    """

    subject: str
    text: str
    html: str
    url: str | None
    image_url: str | None = None


@dataclass(frozen=True)
class Link:
    """A link under a message: its words and where it goes."""

    label: str
    url: str


@dataclass(frozen=True)
class FeedContent:
    """A feed's current bytes and the links that describe it (WebSub §7 ``Link`` header)."""

    body: bytes
    content_type: str
    self_url: str
    hub_url: str


@dataclass(frozen=True)
class Retraction:
    """The message takes back an earlier one to the same recipient (an article withdrawn).

    ``remote_id``: the id the destination gave the earlier message (a Page post's id), so a
    channel that can delete what it posted deletes it; None when nothing was kept (it was
    never posted there, or the channel keeps no ids). Channels that cannot take a message
    back send the retraction's words like any message.
    """

    remote_id: str | None


@dataclass(frozen=True)
class Message:
    """A finished message: what a channel writes out for its transport.

    ``data`` (the announcement's payload, or what its kind loaded for this delivery) is
    always there: a webhook sends it as it is. The words are filled for the TEXT and MAIL
    media; ``html`` (the whole document: the shared layout, the body, the footer links),
    ``footer`` and ``headers`` (what the transport must add, such as ``List-Unsubscribe``)
    for MAIL only; ``document`` for DOCUMENT.
    """

    data: Mapping[str, Any]
    subject: str = ""
    text: str = ""
    url: str | None = None
    image_url: str | None = None
    link_label: str = ""  # the words of a button that opens ``url`` ("Xem")
    html: str = ""
    footer: tuple[Link, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    document: FeedContent | None = None
    retracts: Retraction | None = None
