"""A stack of its own for the Web Push tests: the VAPID pair set, so pages offer notifications."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.channels.web_push import new_vapid_keys
from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.stack import PrivateRedis, Stack

# One VAPID pair for the test session: the stacks below sign with it, pages offer it.
PRIVATE, PUBLIC = new_vapid_keys()
PUSH_SETTINGS = {
    "BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY": PRIVATE,
    "BANTIN_WEB_PUSH_VAPID_PUBLIC_KEY": PUBLIC,
    "BANTIN_WEB_PUSH_SUBJECT": "mailto:toasoan@example.vn",
    "BANTIN_WEB_PUSH_TTL_SECONDS": "3600",
    # The local push service (tests/integration/push_service.py) stands in for FCM and the rest.
    "BANTIN_WEB_PUSH_SERVICES": "127.0.0.1",
}


@contextmanager
def push_stack(log_dir: Path) -> Iterator[tuple[Stack, str]]:
    """A stack of its own on a fresh PostgreSQL database and its own Redis (the session's
    stack keeps the shared one), with the VAPID pair set (so pages offer notifications):
    (the running stack, its database URL)."""
    name = f"bantin_it_push_{uuid.uuid4().hex[:8]}"
    broker = PrivateRedis()
    broker.start()
    database_url = create_database(name)
    try:
        stack = Stack(database_url, broker.url, log_dir, **ANNOUNCEMENT_TEST_SETTINGS, **PUSH_SETTINGS)
        with stack.running() as running:
            yield running, database_url
    finally:
        drop_database(name)
        broker.kill()
