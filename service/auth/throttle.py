"""Sign-in throttling shared by every API process: failure counters in Redis.

After MAX_FAILURES failed sign-ins within WINDOW for one username, or from one client
address, further attempts for it are refused until the window that started with the
first failure runs out (at most 15 minutes). Counting per address stops one machine
trying many usernames; counting per username stops many machines trying one. A
successful sign-in clears the username's counter, never the address's, so a valid
account of one's own cannot be used to reset the address lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
PREFIX = "bantin:login-failures:"

# INCR the counters; each one's window starts at its first failure. (EXPIRE … NX would
# say this in one word but needs Redis 7; the embedded Redis is 6.2.)
_RECORD = """
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, ARGV[1])
  end
end
return 1
"""


@dataclass(frozen=True)
class Refusal:
    """Why sign-in is refused right now, and for how many more seconds."""

    reason: str  # "username" or "address"
    retry_after_seconds: int

    @property
    def retry_after_minutes(self) -> int:
        """The wait in whole minutes, rounded up and at least 1, for the message staff see."""
        return max(1, -(-self.retry_after_seconds // 60))


class LoginThrottle:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @staticmethod
    def _keys(username: str, address: str) -> dict[str, str]:
        # Hashed so that a Redis dump lists no usernames or addresses.
        def key(kind: str, value: str) -> str:
            return PREFIX + kind + ":" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]

        return {"username": key("u", username.strip().lower()), "address": key("a", address)}

    def check(self, username: str, address: str) -> Refusal | None:
        """A Refusal when either counter has reached MAX_FAILURES; None lets the attempt proceed."""
        keys = self._keys(username, address)
        pipe = self.client.pipeline(transaction=False)
        for key in keys.values():
            pipe.get(key)
            pipe.ttl(key)
        results = pipe.execute()
        for position, reason in enumerate(keys):
            count, ttl = results[2 * position], results[2 * position + 1]
            if count is not None and int(count) >= MAX_FAILURES:
                return Refusal(reason, max(int(ttl), 1))
        return None

    def record_failure(self, username: str, address: str) -> None:
        """Count a failed sign-in against the username and the address.

        Each counter's WINDOW_SECONDS window starts at its first failure. redis.RedisError when
        Redis does not answer.
        """
        keys = list(self._keys(username, address).values())
        self.client.eval(_RECORD, len(keys), *keys, str(WINDOW_SECONDS))

    def record_success(self, username: str, address: str) -> None:
        """Clear the username's counter after a successful sign-in; the address's counter stays."""
        self.client.delete(self._keys(username, address)["username"])
