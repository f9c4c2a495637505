"""How a channel reads its service's "this destination is gone" answers (decision 0039).

Every channel that talks HTTP names one reader (its ``gone``): from an answer to what it
does to the subscription (``Ending``), or None for an ordinary failure that is retried.
``service.deliveries.outcomes.record_results`` is the one place that acts on it: ENDED
disables the subscription at once, PAUSED pauses it, each with the service's words.
"""

from __future__ import annotations

from collections.abc import Callable

from service.channels.http import HttpAnswer
from service.channels.messages import Ending

GoneReader = Callable[[HttpAnswer], Ending | None]


def http_gone(response: HttpAnswer) -> Ending | None:
    """The common rule: HTTP 410 Gone (RFC 9110 §15.5.11) ends the subscription."""
    return Ending.ENDED if response.status_code == 410 else None
