"""The token bucket lives in Redis: every worker process shares one limit."""

from __future__ import annotations

import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import cast

import redis

from service.deliveries.ratelimit import RedisRateLimiter
from tests.integration.conftest import REDIS_URL


def _take(key: str) -> list[float]:
    limiter = RedisRateLimiter(redis.Redis.from_url(REDIS_URL))
    return [limiter.acquire(key, per_second=10, burst=5) for _ in range(5)]


def test_two_processes_share_one_bucket(redis_url: str) -> None:
    key = f"test:{uuid.uuid4().hex}"
    with ProcessPoolExecutor(max_workers=2) as pool:
        waits = [w for result in pool.map(_take, [key, key]) for w in result]
    # A burst of 5 for both processes together, not 5 each: the other 5 must wait.
    assert sum(1 for w in waits if w == 0) == 5
    assert all(0 < w <= 0.6 for w in waits if w > 0)


def test_tokens_come_back_at_the_rate(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis.Redis.from_url(redis_url))
    key = f"test:{uuid.uuid4().hex}"
    assert limiter.acquire(key, per_second=1) == 0
    wait = limiter.acquire(key, per_second=1)
    assert 0.9 <= wait <= 1.0
    assert cast(int, redis.Redis.from_url(redis_url).pttl(f"bantin:rl:{key}")) > 0  # buckets expire on their own
