"""A send-rate limit shared by every worker: OUTBOUND_MPS texts per second, no bursts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from redis import Redis

from .. import keys

# Reserve the next free send slot on the server's clock, so workers on different machines
# agree; return the slot and the server's time now, both in milliseconds.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 1000)
return {slot, now}
"""


#: Slots are spaced this much wider than 1/mps: the request that uses a slot leaves a little
#: after it (a Redis round trip, the HTTP connection), and that jitter must not let two
#: texts reach the carrier closer than its limit.
SAFETY_MARGIN = 1.1


@dataclass(frozen=True)
class Slot:
    """One reserved send slot: when it starts (server time, ms) and how long to wait for it."""

    at_ms: int
    wait_seconds: float


class RateLimiter:
    """Spaces outbound texts at least 1/mps seconds apart across all processes."""

    def __init__(self, client: Redis, messages_per_second: float) -> None:
        self._interval_ms = max(1, round(1000 * SAFETY_MARGIN / messages_per_second))
        self._reserve = client.register_script(_RESERVE)

    def reserve(self) -> float:
        """Reserve the next send slot; return the seconds to wait before using it."""
        return self.reserve_slot().wait_seconds

    def reserve_slot(self) -> Slot:
        """Reserve the next send slot; return it."""
        slot, now = cast(
            list[int], self._reserve(keys=[keys.OUTBOUND_RATE], args=[self._interval_ms])
        )
        return Slot(at_ms=int(slot), wait_seconds=(int(slot) - int(now)) / 1000)

    @property
    def interval_ms(self) -> int:
        """Return the milliseconds between two slots (1/mps, widened by SAFETY_MARGIN)."""
        return self._interval_ms
