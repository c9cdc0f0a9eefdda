"""The web's fast-fail window: after Redis times out, answer 503 at once for a moment."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

#: How long requests skip Redis after it failed to answer: long enough that a queue of
#: webhooks behind a hung Redis drains in milliseconds, short enough to notice it is back.
OPEN_SECONDS = 1.5


class RedisBreaker:
    """Remember, in this process, that Redis just failed to answer.

    It holds no conversation state, only when to try Redis again, so keeping it in process
    memory leaves the web stateless.
    """

    def __init__(
        self,
        open_seconds: float = OPEN_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_seconds = open_seconds
        self._monotonic = monotonic
        self._until = 0.0

    def is_open(self) -> bool:
        """Return True while requests should answer 503 without touching Redis."""
        return self._monotonic() < self._until

    def record(self, error: redis.RedisError) -> None:
        """Open the window when the error says Redis is unreachable or hung."""
        # An OOM or WRONGTYPE reply is Redis answering: only silence opens the window.
        if isinstance(error, redis.ConnectionError | redis.TimeoutError):
            self._until = self._monotonic() + self._open_seconds
