"""GET /healthz: 200 when Redis answers, 503 otherwise."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, jsonify

from .services import get_services

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the service can reach Redis."""
    services = get_services()
    if services.breaker.is_open():
        return unavailable()
    try:
        services.redis.ping()
    except redis.RedisError as exc:
        services.breaker.record(exc)
        log.warning("healthz: Redis unavailable (%s)", type(exc).__name__)
        return unavailable()
    return jsonify(status="ok", redis=True), 200


def unavailable() -> tuple[Response, int]:
    """Answer 503 with the body monitors read."""
    response = jsonify(status="unavailable", redis=False)
    response.headers["Retry-After"] = "5"
    return response, 503
