"""Sign-in throttling shared by every API process: counters in Redis (decision 0028).

The policy follows OWASP's Authentication Cheat Sheet ("Login Throttling", "Account
Lockout"): count failures per account so that many addresses cannot share the guessing,
but never let those counts lock the owner out ("care must be taken to prevent it from
being used to cause a denial of service"), and let the wait grow by doubling from a
second rather than be a fixed lock. "Client" is the address `service.web.client` decides.

- **(account, client)**: PAIR_LIMIT failures within WINDOW_SECONDS of the first one, and
  that client waits for the window to end before trying that account again.
- **client**: CLIENT_LIMIT failures within WINDOW_SECONDS of the first, whatever the
  accounts, and that client waits for the window to end (one machine spraying usernames).
- **account**: never locked. Once it has ACCOUNT_FREE failures (the count lasts
  WINDOW_SECONDS after its latest failure), a client that has failed on it waits
  2^(failures - ACCOUNT_FREE) seconds after the account's latest failure (1 s, 2 s, 4 s …,
  at most MAX_DELAY_SECONDS). A client that has not failed on it is not slowed: the owner
  signs in from their own machine while someone else guesses.

An attempt is counted when it is admitted, before the password is checked, in one Lua
script (checks and counts are atomic), so parallel requests cannot get past a limit; a
success takes its own count back and clears its (account, client) pair. Counts are
failures, so one's own valid account cannot reset the client's count.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Literal

import redis

PAIR_LIMIT = 5
CLIENT_LIMIT = 20
ACCOUNT_FREE = 5
WINDOW_SECONDS = 15 * 60
MAX_DELAY_SECONDS = 15 * 60
PREFIX = "bantin:login-failures:"
Reason = Literal["pair", "client", "account"]
REASONS: dict[str, Reason] = {"pair": "pair", "client": "client", "account": "account"}

# KEYS: pair, client, account. ARGV: now (ms), window (ms), pair limit, client limit,
# failures before the account slows down, longest delay (ms). Returns {reason, wait ms},
# reason "" when admitted (and then counted). (EXPIRE … NX would need Redis 7; the
# embedded Redis is 6.2, hence PTTL < 0.) The caller's clock: see deliveries.ratelimit.
_ADMIT = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
if pair >= tonumber(ARGV[3]) then return {'pair', redis.call('PTTL', KEYS[1])} end
local client = tonumber(redis.call('GET', KEYS[2]) or '0')
if client >= tonumber(ARGV[4]) then return {'client', redis.call('PTTL', KEYS[2])} end
local account = redis.call('HMGET', KEYS[3], 'failures', 'latest')
local failures, latest = tonumber(account[1] or '0'), tonumber(account[2] or '0')
local free = tonumber(ARGV[5])
if pair > 0 and failures >= free then
  local wait = latest + math.min(1000 * 2 ^ (failures - free), tonumber(ARGV[6])) - now
  if wait > 0 then return {'account', math.ceil(wait)} end
end
for i = 1, 2 do
  redis.call('INCR', KEYS[i])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], window) end
end
redis.call('HINCRBY', KEYS[3], 'failures', 1)
redis.call('HSET', KEYS[3], 'latest', now)
redis.call('PEXPIRE', KEYS[3], window)
return {'', 0}
"""

# KEYS: pair, client, account. The attempt admitted as a failure was a success.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
if tonumber(redis.call('HGET', KEYS[3], 'failures') or '0') > 0 then
  redis.call('HINCRBY', KEYS[3], 'failures', -1)
end
return 1
"""


@dataclass(frozen=True)
class Refusal:
    """Why sign-in is refused right now, and for how many more seconds."""

    reason: Reason
    retry_after_seconds: int

    @property
    def retry_after_minutes(self) -> int:
        """The wait in whole minutes, rounded up and at least 1."""
        return max(1, -(-self.retry_after_seconds // 60))


class LoginThrottle:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._admit = client.register_script(_ADMIT)
        self._succeeded = client.register_script(_SUCCEEDED)

    @staticmethod
    def _keys(username: str, address: str) -> list[str]:
        # Hashed so that a Redis dump lists no usernames or addresses.
        def key(kind: str, *values: str) -> str:
            digest = hashlib.sha256("\0".join(values).encode("utf-8")).hexdigest()[:32]
            return PREFIX + kind + ":" + digest

        account = username.strip().lower()
        return [key("p", account, address), key("a", address), key("u", account)]

    def admit(self, username: str, address: str, now: float | None = None) -> Refusal | None:
        """Count this attempt as a failure and let it proceed (None), or refuse it (counting nothing).

        ``now``: seconds since the epoch (the wall clock when None). redis.RedisError when
        Redis does not answer.
        """
        at = time.time() if now is None else now
        limits = [WINDOW_SECONDS * 1000, PAIR_LIMIT, CLIENT_LIMIT, ACCOUNT_FREE, MAX_DELAY_SECONDS * 1000]
        reason, wait_ms = self._admit(keys=self._keys(username, address), args=[int(at * 1000), *limits])
        named = reason.decode() if isinstance(reason, bytes) else str(reason)
        if not named:
            return None
        return Refusal(REASONS[named], max(1, -(-int(wait_ms) // 1000)))

    def succeeded(self, username: str, address: str) -> None:
        """The admitted attempt signed in: take its count back and clear the (account, client) pair.

        redis.RedisError when Redis does not answer.
        """
        self._succeeded(keys=self._keys(username, address), args=[])
