"""Warn at startup when the Redis in use can lose what it holds (opt-outs above all)."""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)


def check_durability(client: redis.Redis) -> None:
    """Log a WARNING when Redis keeps nothing on disk or evicts keys; INFO when it cannot tell."""
    try:
        config = {
            **client.config_get("appendonly"),
            **client.config_get("save"),
            **client.config_get("maxmemory-policy"),
        }
    except redis.RedisError as exc:
        # Managed Redis often disables CONFIG; an unreachable Redis is healthz's to report.
        log.info("Redis persistence and eviction not checked: %s", type(exc).__name__)
        return
    appendonly = str(config.get("appendonly", "")).lower()
    save = str(config.get("save", "")).strip()
    policy = str(config.get("maxmemory-policy", "")).lower()
    if appendonly != "yes" and not save:
        log.warning(
            "Redis keeps nothing on disk (appendonly no, save ''): a restart loses every "
            "opt-out and conversation; turn AOF on (appendonly yes)"
        )
    if policy and policy != "noeviction":
        log.warning(
            "Redis maxmemory-policy is %s: when memory fills it deletes keys, and an evicted "
            "key is a lost opt-out; set maxmemory-policy noeviction",
            policy,
        )
    # Quiet when all is well: every CLI command builds the app, and its output is for people.
    log.debug(
        "Redis persistence: appendonly %s, save %r; maxmemory-policy %s",
        appendonly or "?",
        save,
        policy or "?",
    )
