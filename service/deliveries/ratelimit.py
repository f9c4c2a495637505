"""Per-destination rate limits shared by every worker: a token bucket in Redis.

Celery's per-worker ``rate_limit`` would multiply by the number of workers; a bucket in
Redis is one limit for the whole deployment (ARCHITECTURE.md decision 4).
"""

from __future__ import annotations

import threading
import time

import redis

from config.settings import Settings

# KEYS[1] bucket; ARGV rate/s, burst, now (ms). Returns ms to wait (0 = token taken).
BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, prefix: str = "bantin:rl:") -> None:
        self.client = client
        self.prefix = prefix
        self.script = client.register_script(BUCKET_SCRIPT)

    def acquire(self, key: str, per_second: float, burst: float = 1.0) -> float:
        """Take a token from ``key``'s bucket (``per_second`` refill, ``burst`` size): 0.0 when
        taken, else the seconds until one is there (nothing taken).
        """
        # Redis' clock would be better, but TIME is not allowed before writes in old
        # Redis scripts; worker clocks are NTP-synchronised to well under a token period.
        now_ms = int(time.time() * 1000)
        wait_ms = self.script(keys=[self.prefix + key], args=[per_second, max(burst, 1.0), now_ms])
        return int(wait_ms) / 1000


class LocalRateLimiter:
    """One process's bucket, for when no Redis is configured (RabbitMQ broker alone)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str, per_second: float, burst: float = 1.0) -> float:
        """As ``RedisRateLimiter.acquire``, for this process only."""
        with self._lock:
            now = time.monotonic()
            tokens, at = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - at) * per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / per_second


def limiter_for(settings: Settings) -> RedisRateLimiter | LocalRateLimiter:
    """The shared Redis bucket when a Redis is known; a per-process one otherwise."""
    if settings.broker_url and not settings.broker_url.startswith("redis") and not settings.redis_url:
        return LocalRateLimiter()
    return RedisRateLimiter(redis.Redis.from_url(settings.effective_redis_url))
