"""Answers for when Redis fails a request: 503 with Retry-After, never a 500.

Any route whose Redis call fails (down, out of memory, read-only, a key of the wrong type)
answers 503: the webhooks in plain text, which the provider retries, and staff pages with a
short page of their own that needs nothing from Redis to draw. The log line names the error's
type only: redis-py's texts can hold a pipeline's arguments (a session token, an email).
"""

from __future__ import annotations

import logging

import redis
from flask import Flask, Response, request
from werkzeug.exceptions import InternalServerError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
#: Drawn without templates: a template's context processors would ask Redis again.
STAFF_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unavailable - sms-screener</title>
<link rel="stylesheet" href="/staff/static/staff.css"></head>
<body><main><h1>The service is unavailable for a moment</h1>
<p>Its database did not answer, so what you just did may not have been saved: try again in
a minute. If this lasts, tell whoever runs the service.</p></main></body></html>
"""


def init_app(app: Flask) -> None:
    """Answer 503 whenever a Redis error escapes a view, a guard or a page's context."""
    app.register_error_handler(redis.RedisError, unavailable)
    app.register_error_handler(InternalServerError, internal_error)


def unavailable(exc: Exception) -> Response:
    """Answer 503 with Retry-After: a staff page, or plain text the provider retries."""
    log.error(
        "%s %s: Redis failed (%s): answered 503", request.method, request.path, type(exc).__name__
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/staff"):
        return Response(STAFF_PAGE, status=503, headers=headers, mimetype="text/html")
    return Response("unavailable, retry", status=503, headers=headers, mimetype="text/plain")


def internal_error(exc: InternalServerError) -> Response:
    """Answer 503 for a Redis error that surfaced outside a view (an after-request hook)."""
    original = exc.original_exception
    if isinstance(original, redis.RedisError):
        return unavailable(original)
    return Response("internal error", status=500, mimetype="text/plain")
