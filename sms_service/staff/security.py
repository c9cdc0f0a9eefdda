"""The staff pages' guards, created once and bound to each app by init_app."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from ..clock import Clock

csrf = CSRFProtect()
login_manager = LoginManager()


class ClockedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, dated and aged on the service's clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        serializer = super().get_signing_serializer(app)
        if serializer is not None:
            clock = self._clock

            class ClockedSigner(TimestampSigner):
                def get_timestamp(self) -> int:
                    return int(clock())

            serializer.signer = ClockedSigner
        return serializer

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        if session.permanent:
            return datetime.fromtimestamp(self._clock(), UTC) + app.permanent_session_lifetime
        return None
