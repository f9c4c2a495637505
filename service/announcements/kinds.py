"""The registry of announcement kinds: what each kind loads, says and whether a hold applies.

A kind is registered by the domain module that owns it (``service/articles/announcements.py``
and the like; ``service.announcement_kinds`` lists them); the sending layer looks kinds up
here by the announcement's type and never imports a domain (decision 0032). What a kind says:

- ``load``: what a batch's claimed deliveries of this kind need beyond the announcement's
  payload, read IN BULK for the batch (a digest's articles, a feed's bytes): one call per
  kind and batch, never one per delivery;
- ``words``: the subject, plain text, HTML body and link, for one recipient, in the
  recipient's language (called inside ``use_language``);
- ``hold``: whether a paused or disabled subscription holds the message back (a reader's
  confirmation mail and the reply to a stop are sent whatever the state);
- ``preferences_link``: whether the e-mail's footer links to the preferences page (not a
  confirmation: its reader has nothing to manage yet).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config.settings import Settings
from service.announcements.message import AnnouncementText, FeedContent, Retraction
from service.i18n import gettext


@dataclass(frozen=True)
class Recipient:
    """Whom one message is for: the subscription's columns that words and links read."""

    subscription_id: int
    channel: str
    target: str
    locale: str
    unsubscribe_token: str = ""


@dataclass(frozen=True)
class Claim:
    """One claimed delivery as its kind's loader sees it."""

    delivery_id: str
    kind: str
    announcement_id: int
    payload: Mapping[str, Any]
    created_at: float  # epoch seconds of the announcement
    recipient: Recipient


@dataclass(frozen=True)
class Content:
    """What one delivery carries once loaded: the payload its words (and a webhook) read,
    and, for a feed's change, the feed's bytes."""

    payload: Mapping[str, Any]
    document: FeedContent | None = None
    retracts: Retraction | None = None  # the earlier message this one takes back, for this recipient


# (session, the batch's claims of one kind, settings) → content by delivery id; a delivery
# left out carries the announcement's payload as it is.
Loader = Callable[[Session, Sequence[Claim], Settings], Mapping[str, Content]]
# (payload, recipient, settings, now) → the words, in the current language (service.i18n).
Words = Callable[[Mapping[str, Any], Recipient, Settings, datetime], AnnouncementText]


@dataclass(frozen=True)
class Kind:
    """One kind of announcement, named by its announcements' ``type`` (``article.published``)."""

    name: str
    words: Words | None = None  # None: a kind that carries data or a document only (feed.updated)
    load: Loader | None = None  # None: the announcement's payload is all it needs
    hold: bool = True
    preferences_link: bool = True
    # What the console calls it (a Vietnamese msgid marked with N_): the delivery log and the
    # subscriber pages show this, never the type. Empty: the type is shown as it is.
    label: str = ""


class UnknownKind(LookupError):
    """No kind is registered under this name (or the process never registered the kinds)."""


_kinds: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    """Register ``kinds``; registering the same object again is harmless, another kind under a
    taken name is a ValueError."""
    for kind in kinds:
        known = _kinds.get(kind.name)
        if known is not None and known is not kind:
            raise ValueError(f"announcement kind {kind.name!r} is registered twice")
        _kinds[kind.name] = kind


def kind_of(name: str) -> Kind:
    """The kind registered as ``name``; UnknownKind otherwise."""
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownKind(f"no announcement kind {name!r} is registered") from None


def kind_label(name: str) -> str:
    """The kind's name as a person reads it, in the current language ("reader.confirm" →
    "Thư xác nhận đăng ký"); the type itself for a kind that is not registered or has no label."""
    kind = _kinds.get(name)
    return gettext(kind.label) if kind is not None and kind.label else name


def holds(name: str) -> bool:
    """Whether a paused or disabled subscription holds back an announcement of kind ``name``
    (an unknown kind is held: nothing could be said about it anyway)."""
    kind = _kinds.get(name)
    return kind is None or kind.hold


def load_contents(session: Session, claims: Sequence[Claim], settings: Settings) -> dict[str, Content]:
    """What every claimed delivery carries, by delivery id: each kind's loader is called once
    with all the batch's claims of that kind; the others share one ``Content`` per announcement."""
    contents: dict[str, Content] = {}
    shared: dict[int, Content] = {}
    to_load: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        kind = _kinds.get(claim.kind)
        if kind is not None and kind.load is not None:
            to_load[claim.kind].append(claim)
    for name, group in to_load.items():
        loader = _kinds[name].load
        assert loader is not None
        contents.update(loader(session, group, settings))
    for claim in claims:
        if claim.delivery_id not in contents:
            content = shared.get(claim.announcement_id)
            if content is None:
                content = shared[claim.announcement_id] = Content(claim.payload)
            contents[claim.delivery_id] = content
    return contents
