"""Every setting, read from the environment and checked once at startup."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEV_CONSULTATION_URL = "https://example.org/book"
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 (dev mode only, by design)
DEV_OFFICE_PHONE = "555-0100"
DEFAULT_API_BASE_URL = "https://api.twilio.com"

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class ConfigError(RuntimeError):
    """A setting that is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """The service's settings; dev mode is the absence of Twilio credentials."""

    redis_url: str | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from_number: str | None
    twilio_messaging_service_sid: str | None
    twilio_api_base_url: str
    public_base_url: str | None
    consultation_url: str
    secret_key: str
    outbound_mps: float
    office_name: str
    office_phone: str
    conversation_idle_days: float
    screening_retention_days: float
    flows_dir: Path
    var_dir: Path
    log_level: str
    #: Number of proxies in front of the app whose X-Forwarded-* headers we trust.
    trusted_proxies: int
    #: Seconds the provider's API may take to answer one request.
    twilio_timeout_seconds: float = 10.0
    #: Minutes without a request after which a staff session ends.
    staff_idle_minutes: float = 30.0

    @property
    def dev_mode(self) -> bool:
        """Tell whether the service runs without a provider (local outbox, no signatures)."""
        return self.twilio_account_sid is None and self.twilio_auth_token is None

    @property
    def idle_seconds(self) -> int:
        return int(self.conversation_idle_days * 86400)

    @property
    def retention_seconds(self) -> int:
        return int(self.screening_retention_days * 86400)

    def flow_context(self) -> dict[str, str]:
        """Return the values flows put in their placeholders."""
        return {
            "office_name": self.office_name,
            "office_phone": self.office_phone,
            "consultation_url": self.consultation_url,
        }


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError naming what is wrong."""
    env = {k: v.strip() for k, v in (os.environ if environ is None else environ).items()}
    errors: list[str] = []

    def get(name: str) -> str | None:
        return env.get(name) or None

    sid, token = get("TWILIO_ACCOUNT_SID"), get("TWILIO_AUTH_TOKEN")
    dev = sid is None and token is None
    if not dev:
        for name, value in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)):
            if value is None:
                errors.append(f"{name} is required when Twilio credentials are set")
        for name in ("SECRET_KEY", "CONSULTATION_URL", "OFFICE_PHONE"):
            if get(name) is None:
                errors.append(f"{name} is required outside dev mode (Twilio credentials set)")
        if get("TWILIO_FROM_NUMBER") is None and get("TWILIO_MESSAGING_SERVICE_SID") is None:
            errors.append(
                "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required "
                "when Twilio credentials are set"
            )
    if sid is not None and not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        errors.append("TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits")

    from_number = get("TWILIO_FROM_NUMBER")
    if from_number is not None and not _E164.match(from_number):
        errors.append("TWILIO_FROM_NUMBER must be an E.164 number like +15551234567")
    service_sid = get("TWILIO_MESSAGING_SERVICE_SID")
    if service_sid is not None and not re.fullmatch(r"MG[0-9a-fA-F]{32}", service_sid):
        errors.append("TWILIO_MESSAGING_SERVICE_SID must look like MG followed by 32 hex digits")

    redis_url = get("REDIS_URL")
    if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        errors.append("REDIS_URL must start with redis://, rediss:// or unix://")

    def url(name: str, default: str | None) -> str | None:
        value = get(name) or default
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors.append(f"{name} must be an http(s) URL, got {value!r}")
        return value

    api_base = url("TWILIO_API_BASE_URL", DEFAULT_API_BASE_URL) or DEFAULT_API_BASE_URL
    public_base = url("PUBLIC_BASE_URL", None)
    consultation = url("CONSULTATION_URL", DEV_CONSULTATION_URL) or DEV_CONSULTATION_URL

    def number(name: str, default: float, minimum: float) -> float:
        raw = get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            errors.append(f"{name} must be a number, got {raw!r}")
            return default
        if not value > minimum:
            errors.append(f"{name} must be greater than {minimum:g}, got {raw!r}")
        return value

    mps = number("OUTBOUND_MPS", 1.0, 0)
    idle_days = number("CONVERSATION_IDLE_DAYS", 7.0, 0)
    retention_days = number("SCREENING_RETENTION_DAYS", 30.0, 0)
    proxies = number("TRUSTED_PROXIES", 0, -1)
    twilio_timeout = number("TWILIO_TIMEOUT_SECONDS", 10.0, 0)
    staff_idle = number("STAFF_IDLE_MINUTES", 30.0, 0)
    if proxies != int(proxies):
        errors.append("TRUSTED_PROXIES must be a whole number")

    flows_dir = Path(get("FLOWS_DIR") or PROJECT_ROOT / "flows")
    if not flows_dir.is_dir():
        errors.append(f"FLOWS_DIR {str(flows_dir)!r} is not a directory")
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        errors.append("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

    if errors:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(errors))
    return Settings(
        redis_url=redis_url,
        twilio_account_sid=sid,
        twilio_auth_token=token,
        twilio_from_number=from_number,
        twilio_messaging_service_sid=service_sid,
        twilio_api_base_url=api_base.rstrip("/"),
        public_base_url=public_base.rstrip("/") if public_base else None,
        consultation_url=consultation,
        secret_key=get("SECRET_KEY") or DEV_SECRET_KEY,
        outbound_mps=mps,
        office_name=get("OFFICE_NAME") or "Special Ed Help Line",
        office_phone=get("OFFICE_PHONE") or DEV_OFFICE_PHONE,
        conversation_idle_days=idle_days,
        screening_retention_days=retention_days,
        flows_dir=flows_dir,
        var_dir=Path(get("VAR_DIR") or PROJECT_ROOT / "var"),
        log_level=log_level,
        trusted_proxies=int(proxies),
        twilio_timeout_seconds=twilio_timeout,
        staff_idle_minutes=staff_idle,
    )
