"""Every announcement kind, each from the domain module that owns it (decision 0032).

The sending layer knows kinds only by name, through ``service.announcements.kinds``; a
process that sends or previews announcements registers them all once at start (the
worker's tasks, the API, the tests). A new kind is a ``Kind`` in its own domain's
``announcements`` module, one line here, and its words in the catalogue
(``make i18n``): nothing in ``service/channels`` or ``service/deliveries``.
"""

from __future__ import annotations

from service.announcements.kinds import register
from service.articles.announcements import KINDS as ARTICLE_KINDS
from service.calendar.announcements import KINDS as CALENDAR_KINDS
from service.digests.announcements import KINDS as DIGEST_KINDS
from service.readers.announcements import KINDS as READER_KINDS
from service.staff.announcements import KINDS as STAFF_KINDS
from service.subscriptions.announcements import KINDS as SUBSCRIPTION_KINDS
from service.websub.announcements import KINDS as WEBSUB_KINDS


def register_all() -> None:
    """Register every kind; calling it again is harmless."""
    register(
        *ARTICLE_KINDS, *CALENDAR_KINDS, *DIGEST_KINDS, *READER_KINDS, *STAFF_KINDS, *SUBSCRIPTION_KINDS, *WEBSUB_KINDS
    )
