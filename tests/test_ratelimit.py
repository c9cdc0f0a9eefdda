"""The shared send-rate limit: slots on Redis's clock, spaced 1/mps (and 10%) apart."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis as redis_lib

from sms_service.outbound.ratelimit import RateLimiter


@pytest.mark.parametrize(("mps", "interval_ms"), [(1, 1100), (5, 220), (50, 22), (0.5, 2200)])
def test_slots_are_spaced_a_tenth_wider_than_the_rate(
    redis: redis_lib.Redis, mps: float, interval_ms: int
) -> None:
    limiter = RateLimiter(redis, mps)
    assert limiter.interval_ms == interval_ms
    slots = [limiter.reserve_slot() for _ in range(6)]
    # Each slot starts at least one interval after the one before, however quick the calls:
    # a slower caller only gets a later slot, never an earlier one.
    for a, b in itertools.pairwise(slots):
        assert b.at_ms - a.at_ms >= interval_ms
    assert slots[0].wait_seconds >= 0
    assert all(s.wait_seconds >= 0 for s in slots)


def test_many_workers_at_once_never_share_a_slot(redis_url: str, redis: redis_lib.Redis) -> None:
    def reserve_five(_: int) -> list[int]:
        client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
        try:
            limiter = RateLimiter(client, 50)
            return [limiter.reserve_slot().at_ms for _ in range(5)]
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        slots = sorted(itertools.chain.from_iterable(pool.map(reserve_five, range(8))))
    assert len(slots) == 40
    assert all(b - a >= 22 for a, b in itertools.pairwise(slots))


def test_the_slot_key_expires_soon_after_the_last_slot(redis: redis_lib.Redis) -> None:
    RateLimiter(redis, 1).reserve_slot()
    ttl = redis.pttl("smss:rate:outbound")
    assert 0 < ttl <= 1100 + 1000
