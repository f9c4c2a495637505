"""The stable wire names of background tasks.

Domain code asks for work by name (``service.db.after_commit.defer``); ``workers/``
registers the tasks under these names and routes each to its queue. A name is part of
the wire format: messages already in a queue carry it, so it never changes.
"""

from __future__ import annotations

DISPATCH_EVENT = "events.dispatch"
ANNOUNCE_EVENT = "events.announce"
SWEEP_EVENTS = "events.sweep"
PUBLISH_DUE = "articles.publish_due"
SEND_DELIVERY_BATCH = "deliveries.send_batch"
SWEEP_DELIVERIES = "deliveries.sweep"
VERIFY_WEBSUB_INTENT = "websub.verify"
# deliveries.send_batch for WebSub subscribers' deliveries, on a queue of its own (decision 0031).
DISTRIBUTE_WEBSUB = "websub.distribute"
MAINTAIN_WEBSUB = "websub.maintain"
CALENDAR_TICK = "calendar.tick"
PURGE_DELIVERIES = "deliveries.purge"
DIGESTS_TICK = "digests.tick"
