"""A send-rate limit shared by every worker: OUTBOUND_MPS texts per second, no bursts."""

from __future__ import annotations

from typing import cast

from redis import Redis

from .. import keys

# Reserve the next free send slot on the server's clock, so workers on different machines
# agree; return how many milliseconds the caller must wait for it.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 1000)
return slot - now
"""


#: Slots are spaced this much wider than 1/mps: the request that uses a slot leaves a little
#: after it (a Redis round trip, the HTTP connection), and that jitter must not let two
#: texts reach the carrier closer than its limit.
SAFETY_MARGIN = 1.1


class RateLimiter:
    """Spaces outbound texts at least 1/mps seconds apart across all processes."""

    def __init__(self, client: Redis, messages_per_second: float) -> None:
        self._interval_ms = max(1, round(1000 * SAFETY_MARGIN / messages_per_second))
        self._reserve = client.register_script(_RESERVE)

    def reserve(self) -> float:
        """Reserve the next send slot; return the seconds to wait before using it."""
        delay_ms = cast(int, self._reserve(keys=[keys.OUTBOUND_RATE], args=[self._interval_ms]))
        return int(delay_ms) / 1000
