"""The links every message gives its recipient: one-click unsubscribe (RFC 8058) and the
signed preferences page. Made here, above the transport, for every kind alike; the pages
that open them (``/unsubscribe/…``, ``/subscribe/preferences/…``) check them."""

from __future__ import annotations

from datetime import datetime, timedelta

from config.settings import Settings
from service import links
from service.urls import with_path

# The purpose a preferences link is signed for: it opens that page and nothing else.
PREFERENCES = "preferences"


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The one-click unsubscribe link of a subscription's token; a query on ``BANTIN_BASE_URL`` is kept."""
    return with_path(settings.base_url, f"/unsubscribe/{token}")


def preferences_url(settings: Settings, subscription_id: int, now: datetime) -> str:
    """A link to one subscriber's preferences, valid for BANTIN_PREFERENCES_LINK_DAYS from ``now``."""
    expires = now + timedelta(days=settings.preferences_link_days)
    signed = links.sign(settings.secret_key.get_secret_value(), PREFERENCES, str(subscription_id), expires)
    return with_path(settings.base_url, f"/subscribe/preferences/{subscription_id}/{signed}")
