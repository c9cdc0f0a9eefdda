"""The fast-fail window: only Redis silence opens it, and it closes by itself."""

from __future__ import annotations

import redis

from sms_service.breaker import RedisBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_timeout_opens_the_window_for_a_moment_then_redis_is_tried_again() -> None:
    clock = Clock()
    breaker = RedisBreaker(open_seconds=1.5, monotonic=clock)
    assert not breaker.is_open()
    breaker.record(redis.TimeoutError("Timeout reading from socket"))
    assert breaker.is_open()
    clock.now += 1.4
    assert breaker.is_open()
    clock.now += 0.2
    assert not breaker.is_open()


def test_a_refused_connection_opens_it_too() -> None:
    breaker = RedisBreaker(monotonic=Clock())
    breaker.record(redis.ConnectionError("Connection refused"))
    assert breaker.is_open()


def test_an_answer_that_is_an_error_leaves_it_closed() -> None:
    breaker = RedisBreaker(monotonic=Clock())
    breaker.record(redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'"))
    assert not breaker.is_open()
