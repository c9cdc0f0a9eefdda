"""Settings: the table, dev mode defaults, and startup stopped by a message naming what is wrong."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import TEST_ACCOUNT_SID, make_config, signed_config

from sms_service import create_app
from sms_service.config import (
    SETTINGS,
    Choice,
    ConfigError,
    Directory,
    EmailAddresses,
    HttpUrl,
    Number,
    Parser,
    Pattern,
    RedisUrl,
    Secret,
    Settings,
    SmtpServer,
    SmtpUrl,
    Text,
    load_settings,
)

ROOT = Path(__file__).resolve().parent.parent


def test_dev_mode_needs_nothing(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path)})
    assert settings.dev_mode
    assert settings.redis_url is None
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.outbound_mps == 1
    assert settings.idle_seconds == 7 * 86400


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
        ("SECRET_KEY", "SECRET_KEY"),
        ("CONSULTATION_URL", "CONSULTATION_URL"),
        ("OFFICE_PHONE", "OFFICE_PHONE"),
        ("PUBLIC_BASE_URL", "PUBLIC_BASE_URL"),
        ("TWILIO_FROM_NUMBER", "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"),
    ],
)
def test_outside_dev_mode_a_missing_setting_stops_startup(
    tmp_path: Path, missing: str, named: str
) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path)
    del config[missing]
    with pytest.raises(ConfigError, match=named):
        create_app(config)


def test_credentials_without_a_public_base_url_stop_startup(tmp_path: Path) -> None:
    # Without it signatures would be checked against the Host the client sent.
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, **ALERTS_ON)
    del config["PUBLIC_BASE_URL"]
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == (
        "invalid settings:\n  PUBLIC_BASE_URL is required outside dev mode (Twilio credentials set)"
    )


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("SECRET_KEY", "short-but-mine"),
        ("SECRET_KEY", "dev-only-not-secret"),
        ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcde"),
    ],
)
def test_a_weak_secret_stops_startup_without_being_shown(
    tmp_path: Path, name: str, secret: str
) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, **{name: secret})
    with pytest.raises(ConfigError) as raised:
        create_app(config)
    assert f"  {name} is " in str(raised.value)
    assert secret not in str(raised.value)


def test_twilios_own_token_and_a_generated_key_start_production(tmp_path: Path) -> None:
    token = "f3a9c0d1e2b34a5f6e7d8c9b0a1f2e3d"  # an auth token as Twilio makes them: 32 hex
    config = signed_config(
        "redis://127.0.0.1:1/0",
        tmp_path,
        TWILIO_AUTH_TOKEN=token,
        SECRET_KEY="Zq3v-8kPn_2LwYt5Rm0xHc7Bd4Fg9Js1",
    )
    settings = load_settings(config)
    assert settings.twilio_auth_token == token
    assert not settings.dev_mode


def test_dev_mode_keeps_any_secret_key(tmp_path: Path) -> None:
    # Dev mode signs sessions on one machine: its published default and a short key both do.
    assert load_settings({}).secret_key == "dev-only-not-secret"
    assert load_settings({"SECRET_KEY": "a"}).secret_key == "a"


SMTP_SHAPE = (
    "smtp://user:password@host:port or smtps://user:password@host:port "
    "(user and password optional, URL-encoded)"
)
#: Alert emails on: every setting is in use, so a bad value earns its own line only.
ALERTS_ON = {
    "SMTP_URL": "smtp://alerts%40office.test:s3cret@mail.example.org",
    "ALERT_EMAIL": "staff@office.test",
    "PUBLIC_BASE_URL": "https://sms.example.org",
}

WEAK_KEY = "is too weak: give the secret itself (at least 16 characters, as Twilio made it)"
WEAK_TOKEN = "is too weak: give the secret itself (at least 32 characters, as Twilio made it)"
GENERATE = (
    "generate one of at least 32 characters, "
    "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
)
WEAK_SECRET = f"is too weak: {GENERATE}"
#: One malformed value for every setting that can be malformed, and the line it earns.
BAD_VALUES = [
    ("TWILIO_ACCOUNT_SID", "not-a-sid", "must look like AC followed by 32 hex digits"),
    ("TWILIO_WEBHOOK_SIGNING_KEY", "short-key", WEAK_KEY),
    ("TWILIO_WEBHOOK_SIGNING_KEY", "x" * 40, WEAK_KEY),
    ("TWILIO_AUTH_TOKEN", "short-token", WEAK_TOKEN),
    ("TWILIO_AUTH_TOKEN", "0" * 32, WEAK_TOKEN),
    ("SECRET_KEY", "a", WEAK_SECRET),
    ("SECRET_KEY", "x" * 30 + "y", WEAK_SECRET),
    ("SECRET_KEY", "z" * 40, WEAK_SECRET),
    ("SECRET_KEY", "dev-only-not-secret", f"is the published development key: {GENERATE}"),
    ("TWILIO_FROM_NUMBER", "555-1234", "must be an E.164 number like +15551234567"),
    ("TWILIO_FROM_NUMBER", "+0123456789", "must be an E.164 number like +15551234567"),
    (
        "TWILIO_MESSAGING_SERVICE_SID",
        "MG123",
        "must look like MG followed by 32 hex digits",
    ),
    ("REDIS_URL", "http://localhost:6379", "must start with redis://, rediss:// or unix://"),
    ("TWILIO_API_BASE_URL", "ftp://x", "must be an http(s) URL, got 'ftp://x'"),
    ("PUBLIC_BASE_URL", "sms.example.org", "must be an http(s) URL, got 'sms.example.org'"),
    ("CONSULTATION_URL", "example.org/book", "must be an http(s) URL, got 'example.org/book'"),
    ("CONSULTATION_URL", "https://", "must be an http(s) URL, got 'https://'"),
    ("OUTBOUND_MPS", "fast", "must be a number, got 'fast'"),
    ("OUTBOUND_MPS", "0", "must be greater than 0, got '0'"),
    ("OUTBOUND_MPS", "nan", "must be a finite number, got 'nan'"),
    ("OUTBOUND_MPS", "inf", "must be a finite number, got 'inf'"),
    ("CONVERSATION_IDLE_DAYS", "-1", "must be greater than 0, got '-1'"),
    ("SCREENING_RETENTION_DAYS", "0", "must be greater than 0, got '0'"),
    ("FOLLOWUP_RETENTION_DAYS", "0", "must be greater than 0, got '0'"),
    ("TRUSTED_PROXIES", "some", "must be a number, got 'some'"),
    ("TRUSTED_PROXIES", "-1", "must be greater than -1, got '-1'"),
    ("TRUSTED_PROXIES", "1.5", "must be a whole number"),
    ("TRUSTED_PROXIES", "inf", "must be a finite number, got 'inf'"),
    ("TRUSTED_PROXIES", "nan", "must be a finite number, got 'nan'"),
    ("TRUSTED_PROXIES", "-inf", "must be a finite number, got '-inf'"),
    ("TWILIO_TIMEOUT_SECONDS", "0", "must be greater than 0, got '0'"),
    ("STAFF_IDLE_MINUTES", "soon", "must be a number, got 'soon'"),
    ("FLOWS_DIR", "/nonexistent/flows", "'/nonexistent/flows' is not a directory"),
    ("LOG_LEVEL", "LOUD", "must be DEBUG, INFO, WARNING or ERROR"),
    ("SMTP_URL", "http://alerts:s3cret@mail.example.org", f"must look like {SMTP_SHAPE}"),
    ("SMTP_URL", "smtp://alerts:s3cret@:25", f"must look like {SMTP_SHAPE}"),
    ("SMTP_URL", "smtp://alerts:s3cret@mail.example.org/x", f"must look like {SMTP_SHAPE}"),
    ("SMTP_URL", "smtp://alerts:s3cret@mail.example.org:99999", "must have a port from 1 to 65535"),
    ("SMTP_URL", "smtp://alerts:s3cret@mail.example.org:tls", "must have a port from 1 to 65535"),
    (
        "SMTP_URL",
        "smtp://alerts:s3c#ret@mail.example.org",
        "must have no query or fragment (URL-encode # and ?)",
    ),
    (
        "SMTP_URL",
        "smtp://alerts@mail.example.org",
        "must give both a user and a password, or neither",
    ),
    ("ALERT_EMAIL", "staff@office.test, front-desk", "has a malformed email address: 'front-desk'"),
    ("ALERT_EMAIL", "staff@office", "has a malformed email address: 'staff@office'"),
    ("ALERT_FROM", "alerts@", "has a malformed email address: 'alerts@'"),
    ("ALERT_FROM", "a@office.test b@office.test", "must be one email address"),
]


@pytest.mark.parametrize(("name", "value", "line"), BAD_VALUES)
def test_a_malformed_setting_is_named(tmp_path: Path, name: str, value: str, line: str) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, **{**ALERTS_ON, name: value})
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"invalid settings:\n  {name} {line}"
    assert "s3cret" not in str(raised.value), "an SMTP password is never shown"


def test_every_setting_that_can_be_malformed_has_a_bad_value() -> None:
    free_form = {
        s.env
        for s in SETTINGS
        if (isinstance(s.parser, Text) and s.production is None) or s.parser == Directory()
    }
    assert {name for name, _, _ in BAD_VALUES} == {s.env for s in SETTINGS} - free_form


@pytest.mark.parametrize(
    ("parser", "raw", "value"),
    [
        (Text(), "Any Text", "Any Text"),
        (Pattern(r"AC\d{2}", "look like AC12"), "AC12", "AC12"),
        (RedisUrl(), "rediss://h:6380/1", "rediss://h:6380/1"),
        (HttpUrl(), "https://h/path/", "https://h/path/"),
        (HttpUrl(base=True), "http://h:8080/api//", "http://h:8080/api"),
        (Number(0), "0.25", 0.25),
        (Number(-1, whole=True), "0", 0),
        (Number(-1, whole=True), "3.0", 3),
        (Choice(("LOW", "HIGH")), "high", "HIGH"),
        (Directory(), "relative/dir/", Path("relative/dir")),
        (Directory(must_exist=True), str(ROOT), ROOT),
        (SmtpUrl(), "smtp://mail.example.org", SmtpServer("starttls", "mail.example.org", 587)),
        (EmailAddresses(), "a@x.org", ("a@x.org",)),
        (EmailAddresses(single=True), "a@x.org", "a@x.org"),
        (Secret(16), "k" * 15 + "K", "k" * 15 + "K"),
    ],
)
def test_each_kind_of_setting_reads_its_value(parser: Parser, raw: str, value: object) -> None:
    parsed = parser.parse("NAME", raw)
    assert parsed == value
    assert type(parsed) is type(value)


def test_the_table_fills_every_settings_field_once() -> None:
    filled = [s.field for s in SETTINGS]
    assert sorted(filled) == sorted(f.name for f in dataclasses.fields(Settings))
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    documented = {name for cell in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}
    assert {s.env for s in SETTINGS} <= documented


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    config = signed_config(
        "redis://127.0.0.1:1/0",
        tmp_path,
        TWILIO_AUTH_TOKEN="",
        TWILIO_FROM_NUMBER="  ",
        SECRET_KEY="",
        OFFICE_PHONE="",
        TWILIO_ACCOUNT_SID="AC123",
        REDIS_URL="tcp://x",
        PUBLIC_BASE_URL="x",
        OUTBOUND_MPS="0",
        TRUSTED_PROXIES="-1.5",
        FLOWS_DIR=str(tmp_path / "missing"),
        LOG_LEVEL="x",
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value).splitlines() == [
        "invalid settings:",
        "  TWILIO_AUTH_TOKEN is required when Twilio credentials are set",
        "  SECRET_KEY is required outside dev mode (Twilio credentials set)",
        "  OFFICE_PHONE is required outside dev mode (Twilio credentials set)",
        "  TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required"
        " when Twilio credentials are set",
        "  TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits",
        "  REDIS_URL must start with redis://, rediss:// or unix://",
        "  PUBLIC_BASE_URL must be an http(s) URL, got 'x'",
        "  OUTBOUND_MPS must be greater than 0, got '0'",
        "  TRUSTED_PROXIES must be greater than -1, got '-1.5'",
        "  TRUSTED_PROXIES must be a whole number",
        f"  FLOWS_DIR {str(tmp_path / 'missing')!r} is not a directory",
        "  LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR",
    ]


def test_dev_mode_defaults() -> None:
    assert load_settings({}) == Settings(
        redis_url=None,
        twilio_account_sid=None,
        twilio_auth_token=None,
        twilio_from_number=None,
        twilio_messaging_service_sid=None,
        twilio_api_base_url="https://api.twilio.com",
        public_base_url=None,
        consultation_url="https://example.org/book",
        secret_key="dev-only-not-secret",
        outbound_mps=1.0,
        office_name="Special Ed Help Line",
        office_phone="555-0100",
        conversation_idle_days=7.0,
        screening_retention_days=30.0,
        flows_dir=ROOT / "flows",
        var_dir=ROOT / "var",
        log_level="INFO",
        trusted_proxies=0,
        twilio_timeout_seconds=10.0,
        staff_idle_minutes=30.0,
    )


def test_values_are_trimmed_and_normalised(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "REDIS_URL": " unix:///tmp/redis.sock ",
            "TWILIO_API_BASE_URL": "http://127.0.0.1:8080//",
            "PUBLIC_BASE_URL": "https://sms.example.org/",
            "CONSULTATION_URL": "https://example.org/book/",
            "OFFICE_NAME": "",
            "OUTBOUND_MPS": "1e1",
            "TRUSTED_PROXIES": "2.0",
            "STAFF_IDLE_MINUTES": "0.5",
            "FLOWS_DIR": f"{tmp_path}/",
            "VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.redis_url == "unix:///tmp/redis.sock"
    assert settings.twilio_api_base_url == "http://127.0.0.1:8080"
    assert settings.public_base_url == "https://sms.example.org"
    assert settings.consultation_url == "https://example.org/book/"
    assert settings.office_name == "Special Ed Help Line"
    assert settings.outbound_mps == 10.0
    assert settings.trusted_proxies == 2
    assert isinstance(settings.trusted_proxies, int)
    assert settings.staff_idle_minutes == 0.5
    assert settings.flows_dir == tmp_path
    assert settings.var_dir == tmp_path / "var"
    assert settings.log_level == "DEBUG"


def test_a_messaging_service_can_send_instead_of_a_number(tmp_path: Path) -> None:
    service_sid = "MG" + "a" * 32
    config = signed_config(
        "redis://127.0.0.1:1/0",
        tmp_path,
        TWILIO_FROM_NUMBER="",
        TWILIO_MESSAGING_SERVICE_SID=service_sid,
    )
    settings = load_settings(config)
    assert not settings.dev_mode
    assert settings.twilio_from_number is None
    assert settings.twilio_messaging_service_sid == service_sid


def test_a_token_without_a_sid_is_not_dev_mode(tmp_path: Path) -> None:
    config = make_config("redis://127.0.0.1:1/0", tmp_path, TWILIO_AUTH_TOKEN="token")
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID is required"):
        load_settings(config)


def test_a_sid_without_a_token_is_not_dev_mode(tmp_path: Path) -> None:
    config = make_config("redis://127.0.0.1:1/0", tmp_path, TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID)
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        load_settings(config)


def test_a_bad_flow_stops_the_boot(tmp_path: Path, redis_url: str) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flow.schema.json").write_text(
        (Path(__file__).parent.parent / "flows" / "flow.schema.json").read_text()
    )
    (flows / "screening.yaml").write_text("id: screening\nquestions: []\n")
    from sms_service.engine import FlowError

    with pytest.raises(FlowError, match="does not match"):
        create_app(make_config(redis_url, tmp_path, FLOWS_DIR=str(flows)))


def test_alert_emails_are_off_unless_configured() -> None:
    settings = load_settings({})
    assert settings.smtp_server is None
    assert settings.alert_emails is None
    assert settings.alert_sender is None


@pytest.mark.parametrize(
    ("given", "line"),
    [
        (
            {"SMTP_URL": "smtp://mail.example.org"},
            "ALERT_EMAIL is required when SMTP_URL is set (who gets alert emails)",
        ),
        (
            {"ALERT_EMAIL": "staff@office.test", "PUBLIC_BASE_URL": "https://sms.example.org"},
            "SMTP_URL is required when ALERT_EMAIL is set (the server that sends them)",
        ),
        (
            {"SMTP_URL": "smtp://mail.example.org", "ALERT_EMAIL": "staff@office.test"},
            "PUBLIC_BASE_URL is required when ALERT_EMAIL is set (alert emails link to it)",
        ),
    ],
)
def test_alert_settings_go_together(
    tmp_path: Path, redis_url: str, given: dict[str, str], line: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        create_app(make_config(redis_url, tmp_path, **given))
    assert str(raised.value) == f"invalid settings:\n  {line}"


@pytest.mark.parametrize(
    "url",
    [
        "http://alerts:hunter2-pass@mail.example.org",
        "smtp://alerts:hunter2-pass@mail.example.org:0",
        "smtp://alerts:hunter2-pass@mail.example.org:65536",
        "smtp://alerts:hunter2-pass@mail.example.org:x25",
        "smtp://alerts:hunter2-pass@:587",
        "smtp://alerts:hunter2-pass@mail.example.org/inbox",
        "smtp://alerts:hunter2-pass@mail.example.org?tls=1",
        "smtp://alerts:hunter2#pass@mail.example.org",
        "smtp://alerts:hunter2/pass@mail.example.org",
        "smtps://:hunter2-pass@mail.example.org",
    ],
)
def test_a_malformed_smtp_url_never_shows_its_password(tmp_path: Path, url: str) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, **{**ALERTS_ON, "SMTP_URL": url})
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert "SMTP_URL" in str(raised.value)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://mail.example.org", SmtpServer("starttls", "mail.example.org", 587)),
        ("SMTP://Mail.Example.org:25/", SmtpServer("starttls", "mail.example.org", 25)),
        ("smtps://mail.example.org", SmtpServer("tls", "mail.example.org", 465)),
        ("smtp://[::1]:2525", SmtpServer("starttls", "::1", 2525)),
        (
            "smtps://alerts%40office.test:p%40ss%3Aw%2Frd@mail.example.org:4650",
            SmtpServer("tls", "mail.example.org", 4650, "alerts@office.test", "p@ss:w/rd"),
        ),
    ],
)
def test_an_smtp_url_is_read(url: str, server: SmtpServer) -> None:
    assert SmtpUrl().parse("SMTP_URL", url) == server


def test_settings_never_show_the_smtp_password(tmp_path: Path) -> None:
    settings = load_settings(make_config("redis://127.0.0.1:1/0", tmp_path, **ALERTS_ON))
    assert settings.smtp_server is not None
    assert settings.smtp_server.password == "s3cret"
    assert "s3cret" not in repr(settings)


SIGNING_KEY = "shared-key-secret-0123456789abcdef"


def test_the_webhook_signing_key_is_never_shown(tmp_path: Path) -> None:
    config = signed_config(
        "redis://127.0.0.1:1/0", tmp_path, TWILIO_WEBHOOK_SIGNING_KEY=SIGNING_KEY
    )
    settings = load_settings(config)
    assert settings.twilio_webhook_signing_key == SIGNING_KEY
    assert SIGNING_KEY not in repr(settings)
    assert SIGNING_KEY not in str(settings)


@pytest.mark.parametrize("weak", ["tooshort", "a" * 32])
def test_a_weak_signing_key_is_refused_without_showing_it(tmp_path: Path, weak: str) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, TWILIO_WEBHOOK_SIGNING_KEY=weak)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert "TWILIO_WEBHOOK_SIGNING_KEY is too weak" in str(raised.value)
    assert weak not in str(raised.value)


def test_a_signing_key_without_credentials_stops_startup(tmp_path: Path) -> None:
    """Dev mode checks no signatures: a key there would promise a check that is not made."""
    config = make_config("redis://127.0.0.1:1/0", tmp_path, TWILIO_WEBHOOK_SIGNING_KEY=SIGNING_KEY)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value).splitlines() == [
        "invalid settings:",
        "  TWILIO_WEBHOOK_SIGNING_KEY is set but Twilio credentials are not "
        "(dev mode checks no webhook signatures)",
    ]
    assert SIGNING_KEY not in str(raised.value)


def test_a_blank_signing_key_is_unset(tmp_path: Path) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, TWILIO_WEBHOOK_SIGNING_KEY="  ")
    assert load_settings(config).twilio_webhook_signing_key is None


def test_alert_addresses_are_split_on_commas_and_spaces() -> None:
    parsed = EmailAddresses().parse("ALERT_EMAIL", " a@x.org,b@x.org  c.d+e@y.x.org ,, a@x.org ")
    assert parsed == ("a@x.org", "b@x.org", "c.d+e@y.x.org")


@pytest.mark.parametrize(
    ("given", "sender"),
    [
        ({"ALERT_FROM": "alerts@office.test"}, "alerts@office.test"),
        ({"SMTP_URL": "smtp://robot%40office.test:pw@mail.example.org"}, "robot@office.test"),
        ({"SMTP_URL": "smtp://robot:pw@mail.example.org"}, "staff@office.test"),
        ({}, "staff@office.test"),
    ],
)
def test_alerts_come_from_alert_from_the_smtp_user_or_the_first_recipient(
    tmp_path: Path, given: dict[str, str], sender: str
) -> None:
    config = make_config(
        "redis://127.0.0.1:1/0", tmp_path, **{**ALERTS_ON, "SMTP_URL": "smtp://mail.example.org"}
    )
    config.update(ALERT_EMAIL="staff@office.test other@office.test", **given)
    assert load_settings(config).alert_sender == sender
