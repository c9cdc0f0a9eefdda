"""Every setting, read from the environment and checked once at startup."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEV_CONSULTATION_URL = "https://example.org/book"
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 (dev mode only, by design)
DEV_OFFICE_PHONE = "555-0100"
DEFAULT_API_BASE_URL = "https://api.twilio.com"
#: Mail submission with STARTTLS (RFC 6409), and implicit TLS (RFC 8314).
DEFAULT_SMTP_PORT = 587
DEFAULT_SMTPS_PORT = 465

_E164 = r"\+[1-9]\d{6,14}"


class ConfigError(RuntimeError):
    """A setting that is missing or malformed; the message names it."""


@dataclass(frozen=True)
class SmtpServer:
    """Where alert emails go: SMTP_URL, read."""

    #: "starttls": plain SMTP, upgraded when the server offers it; "tls": implicit TLS.
    security: Literal["starttls", "tls"]
    host: str
    port: int
    username: str | None = None
    #: Kept out of repr, so a logged or printed Settings never shows it.
    password: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str | None:
        """Return the user name if it is an email address (a default From), else None."""
        return self.username if self.username and is_email_address(self.username) else None


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
    #: Days a closed follow-up (and its notes, audit trail, texts) is kept after closing.
    followup_retention_days: float = 365.0
    #: The shared key Twilio signs webhooks with (HMAC-SHA256) when a Webhook Setting says so.
    #: Kept out of repr, so a logged or printed Settings never shows it.
    twilio_webhook_signing_key: str | None = field(default=None, repr=False)
    #: Alert emails: all three unset (None) means no email at all.
    smtp_server: SmtpServer | None = None
    alert_emails: tuple[str, ...] | None = None
    alert_from: str | None = None

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

    @property
    def followup_retention_seconds(self) -> int:
        return int(self.followup_retention_days * 86400)

    @property
    def alert_sender(self) -> str | None:
        """Return the From of alert emails: ALERT_FROM, the SMTP user, or the first recipient."""
        if self.alert_from:
            return self.alert_from
        if self.smtp_server is not None and self.smtp_server.address:
            return self.smtp_server.address
        return self.alert_emails[0] if self.alert_emails else None

    def flow_context(self) -> dict[str, str]:
        """Return the values flows put in their placeholders."""
        return {
            "office_name": self.office_name,
            "office_phone": self.office_phone,
            "consultation_url": self.consultation_url,
        }


class _ParseError(Exception):
    """A malformed value; its args are the error lines, each naming the setting."""


class Parser(Protocol):
    """Turn one setting's text into its value, or raise _ParseError naming the setting."""

    def parse(self, name: str, raw: str) -> object: ...


@dataclass(frozen=True)
class Text:
    """Any text, kept as given."""

    def parse(self, name: str, raw: str) -> str:
        """Return the text unchanged."""
        return raw


@dataclass(frozen=True)
class Pattern:
    """Text that must match a regular expression whole."""

    regex: str
    #: Completes "NAME must ..." in the error.
    shape: str

    def parse(self, name: str, raw: str) -> str:
        """Return the text if it matches."""
        if not re.fullmatch(self.regex, raw):
            raise _ParseError(f"{name} must {self.shape}")
        return raw


#: Shortest shared signing key we accept: Twilio makes it, and does not document its length.
MIN_SIGNING_KEY_LENGTH = 16
#: Shortest secret we make the operator choose or copy (SECRET_KEY; Twilio's auth token is 32).
MIN_SECRET_LENGTH = 32
#: Secrets anyone can read in this repository: never accepted outside dev mode.
PUBLISHED_SECRETS = frozenset({DEV_SECRET_KEY})
_TWILIO_MADE = "give the secret itself (at least {minimum} characters, as Twilio made it)"
_GENERATE = (
    "generate one of at least {minimum} characters, e.g. "
    "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


@dataclass(frozen=True)
class Secret:
    """A secret that must be long enough to guess at no better than chance.

    Errors never quote the value.
    """

    minimum: int
    #: Completes "NAME is too weak: ..."; {minimum} is filled in.
    advice: str = _TWILIO_MADE

    def parse(self, name: str, raw: str) -> str:
        """Return the secret if it is long, not one character repeated, and not published."""
        advice = self.advice.format(minimum=self.minimum)
        if raw in PUBLISHED_SECRETS:
            raise _ParseError(f"{name} is the published development key: {advice}")
        if len(raw) < self.minimum or len(set(raw)) == 1:
            raise _ParseError(f"{name} is too weak: {advice}")
        return raw


#: SECRET_KEY outside dev mode (dev mode signs its sessions with DEV_SECRET_KEY).
STAFF_SECRET = Secret(MIN_SECRET_LENGTH, _GENERATE)


@dataclass(frozen=True)
class RedisUrl:
    """A redis://, rediss:// or unix:// URL."""

    def parse(self, name: str, raw: str) -> str:
        """Return the URL if its scheme is one redis-py connects with."""
        if urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
            raise _ParseError(f"{name} must start with redis://, rediss:// or unix://")
        return raw


@dataclass(frozen=True)
class HttpUrl:
    """An http(s) URL with a host."""

    #: Base URLs get paths appended, so they drop trailing slashes.
    base: bool = False

    def parse(self, name: str, raw: str) -> str:
        """Return the URL (without trailing slashes for a base URL)."""
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _ParseError(f"{name} must be an http(s) URL, got {raw!r}")
        return raw.rstrip("/") if self.base else raw


@dataclass(frozen=True)
class Number:
    """A number greater than a minimum; whole numbers come back as int."""

    minimum: float
    whole: bool = False

    def parse(self, name: str, raw: str) -> float:
        """Return the number, or raise naming every way it is out of range."""
        try:
            value = float(raw)
        except ValueError:
            raise _ParseError(f"{name} must be a number, got {raw!r}") from None
        if not math.isfinite(value):
            # inf and nan parse as floats but are no count, rate or duration (int() fails).
            raise _ParseError(f"{name} must be a finite number, got {raw!r}")
        problems = []
        if not value > self.minimum:
            problems.append(f"{name} must be greater than {self.minimum:g}, got {raw!r}")
        if self.whole and value != int(value):
            problems.append(f"{name} must be a whole number")
        if problems:
            raise _ParseError(*problems)
        return int(value) if self.whole else value


@dataclass(frozen=True)
class Choice:
    """One of a few upper-case words, in any case."""

    options: tuple[str, ...]

    def parse(self, name: str, raw: str) -> str:
        """Return the word upper-cased if it is one of the options."""
        value = raw.upper()
        if value not in self.options:
            listed = ", ".join(self.options[:-1]) + " or " + self.options[-1]
            raise _ParseError(f"{name} must be {listed}")
        return value


_SMTP_SHAPE = (
    "must look like smtp://user:password@host:port or smtps://user:password@host:port "
    "(user and password optional, URL-encoded)"
)


@dataclass(frozen=True)
class SmtpUrl:
    """An smtp:// (STARTTLS when offered) or smtps:// (implicit TLS) URL.

    Errors never quote the value: it holds a password.
    """

    def parse(self, name: str, raw: str) -> SmtpServer:
        """Return the server, its port defaulted by scheme and its credentials URL-decoded."""
        parts = urlsplit(raw)
        schemes: dict[str, Literal["starttls", "tls"]] = {"smtp": "starttls", "smtps": "tls"}
        security = schemes.get(parts.scheme.lower())
        if security is None or not parts.hostname or parts.path not in ("", "/"):
            raise _ParseError(f"{name} {_SMTP_SHAPE}")
        if parts.query or parts.fragment:
            raise _ParseError(f"{name} must have no query or fragment (URL-encode # and ?)")
        try:
            port = parts.port
        except ValueError:
            raise _ParseError(f"{name} must have a port from 1 to 65535") from None
        if port == 0:
            raise _ParseError(f"{name} must have a port from 1 to 65535")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if (username is None) != (password is None):
            raise _ParseError(f"{name} must give both a user and a password, or neither")
        default = DEFAULT_SMTP_PORT if security == "starttls" else DEFAULT_SMTPS_PORT
        return SmtpServer(security, parts.hostname, port or default, username, password)


#: A plain address: a dot-atom local part and a domain with at least one dot.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
)


def is_email_address(text: str) -> bool:
    """Tell whether text is one plain, well-formed email address (no display name)."""
    return _EMAIL.fullmatch(text) is not None and len(text) <= 254


@dataclass(frozen=True)
class EmailAddresses:
    """One or more plain email addresses, separated by commas and/or spaces."""

    #: At most one address (ALERT_FROM).
    single: bool = False

    def parse(self, name: str, raw: str) -> tuple[str, ...] | str:
        """Return the addresses in order, repeats dropped (the address itself if single)."""
        found = [a for a in re.split(r"[,\s]+", raw) if a]
        bad = [a for a in found if not is_email_address(a)]
        if bad:
            raise _ParseError(*(f"{name} has a malformed email address: {a!r}" for a in bad))
        if self.single:
            if len(found) != 1:
                raise _ParseError(f"{name} must be one email address")
            return found[0]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Directory:
    """A filesystem path; must_exist makes it a directory that exists at startup."""

    must_exist: bool = False

    def parse(self, name: str, raw: str) -> Path:
        """Return the path, checking it is a directory if it must exist."""
        path = Path(raw)
        if self.must_exist and not path.is_dir():
            raise _ParseError(f"{name} {str(path)!r} is not a directory")
        return path


@dataclass(frozen=True)
class Setting:
    """One environment variable: the Settings field it fills and how it is read."""

    env: str
    field: str
    parser: Parser
    _: KW_ONLY
    doc: str
    #: Text used when the variable is unset or blank; it is parsed like a value that was set.
    default: str | None = None
    #: Must be set when Twilio credentials are (outside dev mode the default is not enough).
    required: bool = False
    #: Outside dev mode the value must pass this too (dev mode keeps its published defaults).
    production: Parser | None = None


#: Every setting, in the order their errors are listed.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TWILIO_ACCOUNT_SID",
        "twilio_account_sid",
        Pattern(r"AC[0-9a-fA-F]{32}", "look like AC followed by 32 hex digits"),
        doc="provider account; with the token unset too, the service runs in dev mode",
    ),
    Setting(
        "TWILIO_AUTH_TOKEN",
        "twilio_auth_token",
        Secret(MIN_SECRET_LENGTH),
        doc="provider token; it also verifies webhook signatures",
    ),
    Setting(
        "TWILIO_WEBHOOK_SIGNING_KEY",
        "twilio_webhook_signing_key",
        Secret(MIN_SIGNING_KEY_LENGTH),
        doc="the shared key's secret for webhooks Twilio signs with a shared key (HMAC-SHA256)",
    ),
    Setting(
        "TWILIO_FROM_NUMBER",
        "twilio_from_number",
        Pattern(_E164, "be an E.164 number like +15551234567"),
        doc="the number outbound texts come from",
    ),
    Setting(
        "TWILIO_MESSAGING_SERVICE_SID",
        "twilio_messaging_service_sid",
        Pattern(r"MG[0-9a-fA-F]{32}", "look like MG followed by 32 hex digits"),
        doc="the messaging service outbound texts go through, instead of a number",
    ),
    Setting(
        "REDIS_URL",
        "redis_url",
        RedisUrl(),
        doc="Redis or Valkey; unset means an embedded Redis under VAR_DIR",
    ),
    Setting(
        "TWILIO_API_BASE_URL",
        "twilio_api_base_url",
        HttpUrl(base=True),
        default=DEFAULT_API_BASE_URL,
        doc="the provider's REST API base",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        "public_base_url",
        HttpUrl(base=True),
        required=True,
        doc="the URL the provider calls; signatures are checked against it, never the Host",
    ),
    Setting(
        "SECRET_KEY",
        "secret_key",
        Text(),
        default=DEV_SECRET_KEY,
        required=True,
        production=STAFF_SECRET,
        doc="signs staff sessions",
    ),
    Setting(
        "CONSULTATION_URL",
        "consultation_url",
        HttpUrl(),
        default=DEV_CONSULTATION_URL,
        required=True,
        doc="booking link in results and HELP",
    ),
    Setting(
        "OFFICE_NAME",
        "office_name",
        Text(),
        default="Special Ed Help Line",
        doc="the office's name in the intro and HELP",
    ),
    Setting(
        "OFFICE_PHONE",
        "office_phone",
        Text(),
        default=DEV_OFFICE_PHONE,
        required=True,
        doc="the office's phone number in HELP, written as people should read it",
    ),
    Setting(
        "OUTBOUND_MPS",
        "outbound_mps",
        Number(0),
        default="1",
        doc="outbound messages per second, shared by all workers",
    ),
    Setting(
        "CONVERSATION_IDLE_DAYS",
        "conversation_idle_days",
        Number(0),
        default="7",
        doc="a conversation idle this long starts fresh",
    ),
    Setting(
        "SCREENING_RETENTION_DAYS",
        "screening_retention_days",
        Number(0),
        default="30",
        doc="how long a completed screening's answers are kept",
    ),
    Setting(
        "FOLLOWUP_RETENTION_DAYS",
        "followup_retention_days",
        Number(0),
        default="365",
        doc="how long a closed follow-up is kept after closing (open ones are kept)",
    ),
    Setting(
        "TRUSTED_PROXIES",
        "trusted_proxies",
        Number(-1, whole=True),
        default="0",
        doc="how many proxies' X-Forwarded-* headers to trust",
    ),
    Setting(
        "TWILIO_TIMEOUT_SECONDS",
        "twilio_timeout_seconds",
        Number(0),
        default="10",
        doc="how long one request to the provider's API may take",
    ),
    Setting(
        "STAFF_IDLE_MINUTES",
        "staff_idle_minutes",
        Number(0),
        default="30",
        doc="a staff session ends after this long without a request",
    ),
    Setting(
        "SMTP_URL",
        "smtp_server",
        SmtpUrl(),
        doc="the SMTP server alert emails go through; unset (with ALERT_EMAIL) means no email",
    ),
    Setting(
        "ALERT_EMAIL",
        "alert_emails",
        EmailAddresses(),
        doc="who is emailed when an urgent follow-up is created or a parent replies",
    ),
    Setting(
        "ALERT_FROM",
        "alert_from",
        EmailAddresses(single=True),
        doc="the From of alert emails (unset: the SMTP user if an address, else ALERT_EMAIL[0])",
    ),
    Setting(
        "FLOWS_DIR",
        "flows_dir",
        Directory(must_exist=True),
        default=str(PROJECT_ROOT / "flows"),
        doc="where the flow files live",
    ),
    Setting(
        "VAR_DIR",
        "var_dir",
        Directory(),
        default=str(PROJECT_ROOT / "var"),
        doc="where the embedded Redis keeps its data",
    ),
    Setting(
        "LOG_LEVEL",
        "log_level",
        Choice(("DEBUG", "INFO", "WARNING", "ERROR")),
        default="INFO",
        doc="how much the service logs",
    ),
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError naming what is wrong."""
    source = os.environ if environ is None else environ
    # A blank value means unset, so a stray "FOO=" line falls back to the default.
    env = {k: stripped for k, v in source.items() if (stripped := v.strip())}
    values, errors = _parse_all(env)
    # The rules that tie settings together come first in the message, as they always have.
    errors = _check_credentials(env) + _check_alerts(env) + errors
    if errors:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(errors))
    return Settings(**values)


def _parse_all(env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Return every field's value read from env, and the errors met on the way."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for setting in SETTINGS:
        raw = env.get(setting.env, setting.default)
        try:
            values[setting.field] = None if raw is None else setting.parser.parse(setting.env, raw)
        except _ParseError as error:
            errors.extend(error.args)
    return values, errors


def _check_credentials(env: Mapping[str, str]) -> list[str]:
    """Return what is missing alongside Twilio credentials (none at all means dev mode)."""
    credentials = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    if not any(name in env for name in credentials):
        if "TWILIO_WEBHOOK_SIGNING_KEY" in env:
            # Dev mode checks no signature at all: a key there would promise what is not done.
            return [
                "TWILIO_WEBHOOK_SIGNING_KEY is set but Twilio credentials are not "
                "(dev mode checks no webhook signatures)"
            ]
        return []
    errors = [
        f"{name} is required when Twilio credentials are set"
        for name in credentials
        if name not in env
    ]
    errors += [
        f"{setting.env} is required outside dev mode (Twilio credentials set)"
        for setting in SETTINGS
        if setting.required and setting.env not in env
    ]
    for setting in SETTINGS:
        if setting.production is not None and setting.env in env:
            try:
                setting.production.parse(setting.env, env[setting.env])
            except _ParseError as error:
                errors.extend(error.args)
    if "TWILIO_FROM_NUMBER" not in env and "TWILIO_MESSAGING_SERVICE_SID" not in env:
        errors.append(
            "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required "
            "when Twilio credentials are set"
        )
    return errors


def _check_alerts(env: Mapping[str, str]) -> list[str]:
    """Return what is missing for alert emails: SMTP_URL and ALERT_EMAIL go together."""
    errors = []
    if "SMTP_URL" in env and "ALERT_EMAIL" not in env:
        errors.append("ALERT_EMAIL is required when SMTP_URL is set (who gets alert emails)")
    if "ALERT_EMAIL" in env and "SMTP_URL" not in env:
        errors.append("SMTP_URL is required when ALERT_EMAIL is set (the server that sends them)")
    credentials = any(name in env for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"))
    # Outside dev mode PUBLIC_BASE_URL is required anyway: one line for it is enough.
    if "ALERT_EMAIL" in env and "PUBLIC_BASE_URL" not in env and not credentials:
        errors.append(
            "PUBLIC_BASE_URL is required when ALERT_EMAIL is set (alert emails link to it)"
        )
    return errors
