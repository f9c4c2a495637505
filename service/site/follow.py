"""What ``/theo-doi`` ("Theo dõi", follow us) offers: every way a reader can follow the desk,
and the address of every feed, each to copy.

A plain function of the settings and the public categories, so the page is validated by
the site's generation like the others (the settings it reads are in the build's
fingerprint, ``service.web.templating.branding``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config.settings import Settings
from service.site.meta import FEED_FORMATS
from service.site.navigation import PublicCategory


@dataclass(frozen=True, slots=True)
class Address:
    """A feed's address with the name of its format ("RSS", "Atom", "JSON Feed")."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class FeedGroup:
    """The feeds of the whole site (``name`` None) or of one category."""

    name: str | None
    addresses: tuple[Address, ...]


@dataclass(frozen=True, slots=True)
class Channel:
    """One way to follow: its key (which the template words), and where to go, if anywhere
    yet (None: not offered on this site, or coming)."""

    key: str
    url: str | None
    available: bool


CALENDAR_PATH = "/calendar.ics"


def channels(settings: Settings) -> tuple[Channel, ...]:
    """The ways to follow, in the order the page lists them."""
    zalo = f"https://zalo.me/{settings.zalo_oa_id}" if settings.zalo_oa_id else None
    telegram = f"https://t.me/{settings.telegram_bot_username}" if settings.telegram_bot_username else None
    return (
        Channel("email", "/subscribe", True),
        Channel("zalo", zalo, zalo is not None),
        Channel("telegram", telegram, telegram is not None),
        # Web Push (decision 0041): offered when the VAPID key pair is set.
        Channel("browser", None, bool(settings.web_push_vapid_private_key.get_secret_value())),
        Channel("calendar", settings.base_url + CALENDAR_PATH, True),
    )


def feed_groups(base_url: str, categories: Sequence[PublicCategory]) -> tuple[FeedGroup, ...]:
    """The site's feeds, then each public category's, by name; absolute addresses, as a
    feed reader needs them."""

    def addresses(path: str) -> tuple[Address, ...]:
        return tuple(Address(label, f"{base_url}{path}/{filename}") for filename, _, label in FEED_FORMATS)

    site = FeedGroup(None, addresses("/feeds"))
    return (site, *(FeedGroup(c.name, addresses(f"/feeds/categories/{c.slug}")) for c in categories))
