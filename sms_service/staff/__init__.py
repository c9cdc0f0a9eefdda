"""The staff pages: login, the follow-up queue, a follow-up's detail, admin of accounts."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request

from ..clock import Clock
from ..config import Settings

# Importing the page modules registers their views on bp.
from . import admin, detail, login, queue  # noqa: F401
from .auth import load_user
from .blueprint import bp
from .security import ClockedSessionInterface, csrf, login_manager

#: Every staff page's Content-Security-Policy: no inline script or style, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def init_app(app: Flask, settings: Settings, clock: Clock) -> None:
    """Wire sessions, login, CSRF and security headers, and register the staff pages."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.dev_mode,
        SESSION_COOKIE_NAME="sms_screener_session",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.staff_idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = ClockedSessionInterface(clock)
    login_manager.login_view = "staff.login"
    login_manager.login_message = "Please log in to see the queue."
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)

    @app.after_request
    def security_headers(response: Response) -> Response:
        """Set headers that keep staff pages out of frames, caches and sniffers."""
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/staff"):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Cache-Control"] = "no-store"
        if not settings.dev_mode:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response


__all__ = ["bp", "csrf", "init_app"]
