"""The fault suite's own redis-server: it hangs on SIGSTOP and answers again on SIGCONT."""

from __future__ import annotations

import time

import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry

from .conftest import Figure, RedisProcess


def test_a_paused_server_hangs_and_a_resumed_one_answers(
    own_redis: RedisProcess, figure: Figure
) -> None:
    # No retries: redis-py's default Retry would stack attempts and backoffs (about 10 s here).
    client = redis_lib.Redis(port=own_redis.port, socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
    assert client.set("k", "v")
    own_redis.pause()
    started = time.monotonic()
    with pytest.raises(redis_lib.TimeoutError):
        client.get("k")
    figure("a paused server's read timed out after", f"{time.monotonic() - started:.2f} s")
    own_redis.resume()
    assert client.get("k") == b"v"
    client.close()
