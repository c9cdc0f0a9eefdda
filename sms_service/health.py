"""GET /healthz: 200 when Redis answers, 503 otherwise."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, jsonify

from .services import get_services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the service can reach Redis."""
    try:
        get_services().redis.ping()
    except redis.RedisError:
        return jsonify(status="unavailable", redis=False), 503
    return jsonify(status="ok", redis=True), 200
