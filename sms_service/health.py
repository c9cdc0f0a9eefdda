"""GET /healthz: 200 when Redis takes a write, 503 otherwise."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, jsonify

from . import keys
from .services import get_services

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

#: The health key outlives one check by little: it is proof of a write, not data.
HEALTH_TTL_SECONDS = 30


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the service can serve a text: Redis answers and takes a write."""
    services = get_services()
    if services.breaker.is_open():
        return unavailable()
    try:
        # A write, not a PING: a Redis full under noeviction answers PING but refuses every
        # text's writes (OOM), and health means "can serve a text".
        services.redis.set(keys.HEALTH, "ok", ex=HEALTH_TTL_SECONDS)
    except redis.RedisError as exc:
        services.breaker.record(exc)
        log.warning("healthz: Redis cannot take a write (%s)", type(exc).__name__)
        return unavailable()
    return jsonify(status="ok", redis=True), 200


def unavailable() -> tuple[Response, int]:
    """Answer 503 with the body monitors read."""
    response = jsonify(status="unavailable", redis=False)
    response.headers["Retry-After"] = "5"
    return response, 503
