"""The calendar's and the digests' idea of "now": the system clock, or a file that tests move forward.

Only the calendar and the digest schedule read it, so that a test can travel through a
year of reminders, or to tomorrow's digest, with a real worker and beat; deliveries keep
the real clock. Settings refuse a clock file outside BANTIN_ENVIRONMENT=test.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import TypeAdapter

from config.settings import Settings
from service.db.types import utcnow
from service.inputs import Instant

_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


def now(settings: Settings) -> datetime:
    """The system clock (UTC), or the instant in ``BANTIN_CLOCK_FILE`` when one is set (tests)."""
    clock_file = settings.clock_file
    if clock_file is None:
        return utcnow()
    # Read like every other instant we accept: no zone means BANTIN_TIMEZONE.
    return _INSTANT.validate_python(clock_file.read_text().strip())
